package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/streamhttp"
)

// maxInputRounds bounds the multi-round-trip retries of one call.
const maxInputRounds = 16

// translated serves a legacy client session from a modern (sessionless)
// upstream: every request gets the session's _meta, input_required
// results become server-to-client requests on the call's stream (the
// client's answers are collected and the call retried with them), ping and
// logging/setLevel are answered here, and the GET stream is an upstream
// subscriptions/listen.
type translated struct {
	conn     *streamhttp.Conn
	meta     map[string]json.RawMessage // _meta sent with every request
	mu       sync.Mutex
	waiters  map[string]chan *mcp.Message // gateway-issued request id → answer
	inflight map[string]context.CancelFunc

	// The GET stream: one upstream subscriptions/listen at a time, reopened
	// with the new filter when the client (un)subscribes a resource.
	events       *upstream.Queue
	resources    map[string]bool
	stopListen   context.CancelFunc
	listening    bool
	closedListen bool
}

// newTranslated builds the backend from the client's initialize params and
// returns it with the initialize result synthesised from server/discover.
func newTranslated(ctx context.Context, conn *streamhttp.Conn, initParams json.RawMessage) (*translated, json.RawMessage, error) {
	var ip struct {
		ProtocolVersion string          `json:"protocolVersion"`
		Capabilities    json.RawMessage `json:"capabilities"`
		ClientInfo      json.RawMessage `json:"clientInfo"`
	}
	if len(initParams) > 0 {
		if err := json.Unmarshal(initParams, &ip); err != nil {
			return nil, nil, mcp.Errorf(mcp.CodeInvalidParams, "invalid initialize params: %v", err)
		}
	}
	if ip.Capabilities == nil {
		ip.Capabilities = json.RawMessage(`{}`)
	}
	meta := map[string]json.RawMessage{
		mcp.MetaProtocolVersion:    json.RawMessage(`"` + mcp.Version20260728 + `"`),
		mcp.MetaClientCapabilities: ip.Capabilities,
	}
	if ip.ClientInfo != nil {
		meta[mcp.MetaClientInfo] = ip.ClientInfo
	}
	dmeta := map[string]any{}
	for k, v := range meta {
		dmeta[k] = v
	}
	res, err := discover(ctx, conn, dmeta)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: server/discover: %w", upstream.ErrUnavailable, err)
	}
	version := ip.ProtocolVersion
	if !mcp.IsLegacyVersion(version) {
		version = mcp.LatestLegacyVersion
	}
	serverInfo := res.Meta[mcp.MetaServerInfo]
	if serverInfo == nil {
		serverInfo = json.RawMessage(`{"name":"gatehouse-translated","version":"unknown"}`)
	}
	caps := res.Capabilities
	if caps == nil {
		caps = json.RawMessage(`{}`)
	}
	result, err := json.Marshal(map[string]any{
		"protocolVersion": version,
		"capabilities":    caps,
		"serverInfo":      serverInfo,
		"instructions":    res.Instructions,
	})
	if err != nil {
		return nil, nil, err
	}
	t := &translated{conn: conn, meta: meta, waiters: map[string]chan *mcp.Message{}, inflight: map[string]context.CancelFunc{},
		events: upstream.NewQueue(1024), resources: map[string]bool{}}
	return t, result, nil
}

// withMeta returns params with the session's _meta merged in (the
// request's own _meta keys, such as progressToken, are kept).
func (t *translated) withMeta(params json.RawMessage, extra map[string]json.RawMessage) (json.RawMessage, error) {
	p := map[string]json.RawMessage{}
	if len(params) > 0 && string(params) != "null" {
		if err := json.Unmarshal(params, &p); err != nil {
			return nil, mcp.Errorf(mcp.CodeInvalidParams, "invalid params: %v", err)
		}
	}
	meta := map[string]json.RawMessage{}
	if raw, ok := p["_meta"]; ok {
		if err := json.Unmarshal(raw, &meta); err != nil {
			return nil, mcp.Errorf(mcp.CodeInvalidParams, "invalid params._meta: %v", err)
		}
	}
	t.mu.Lock()
	for k, v := range t.meta {
		meta[k] = v
	}
	t.mu.Unlock()
	raw, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	p["_meta"] = raw
	for k, v := range extra {
		p[k] = v
	}
	return json.Marshal(p)
}

// Call implements the session backend.
func (t *translated) Call(ctx context.Context, req *mcp.Message) (upstream.Stream, error) {
	q := upstream.NewQueue(0)
	switch req.Method {
	case mcp.MethodPing:
		return answer(q, req, json.RawMessage(`{}`)), nil
	case mcp.MethodLoggingSetLevel:
		var p struct {
			Level string `json:"level"`
		}
		if json.Unmarshal(req.Params, &p) != nil || p.Level == "" {
			return errorAnswer(q, req, mcp.NewError(mcp.CodeInvalidParams, "logging/setLevel needs a level")), nil
		}
		t.mu.Lock()
		t.meta[mcp.MetaLogLevel] = json.RawMessage(`"` + p.Level + `"`)
		t.mu.Unlock()
		return answer(q, req, json.RawMessage(`{}`)), nil
	case mcp.MethodResourcesSubscribe, mcp.MethodResourcesUnsubscribe:
		uri := req.TargetName()
		if uri == "" {
			return errorAnswer(q, req, mcp.NewError(mcp.CodeInvalidParams, req.Method+" needs a uri")), nil
		}
		t.mu.Lock()
		if req.Method == mcp.MethodResourcesSubscribe {
			t.resources[uri] = true
		} else {
			delete(t.resources, uri)
		}
		t.mu.Unlock()
		t.relisten()
		return answer(q, req, json.RawMessage(`{}`)), nil
	}
	ctx, cancel := context.WithCancel(ctx)
	t.mu.Lock()
	t.inflight[req.IDKey()] = cancel
	t.mu.Unlock()
	go func() {
		defer func() {
			cancel()
			t.mu.Lock()
			delete(t.inflight, req.IDKey())
			t.mu.Unlock()
		}()
		q.Finish(t.run(ctx, req, q))
	}()
	return q, nil
}

func answer(q *upstream.Queue, req *mcp.Message, result json.RawMessage) *upstream.Queue {
	q.Push(&mcp.Message{JSONRPC: "2.0", ID: req.ID, Result: result})
	q.Finish(nil)
	return q
}

func errorAnswer(q *upstream.Queue, req *mcp.Message, e *mcp.Error) *upstream.Queue {
	q.Push(mcp.NewErrorResponse(req.ID, e))
	q.Finish(nil)
	return q
}

// run forwards req, relaying interim messages, until a complete result.
func (t *translated) run(ctx context.Context, req *mcp.Message, q *upstream.Queue) error {
	params, err := t.withMeta(req.Params, nil)
	if err != nil {
		var rpcErr *mcp.Error
		if errors.As(err, &rpcErr) {
			q.Push(mcp.NewErrorResponse(req.ID, rpcErr))
			return nil
		}
		return err
	}
	for round := 0; ; round++ {
		msg := &mcp.Message{JSONRPC: "2.0", ID: req.ID, Method: req.Method, Params: params}
		final, err := t.forward(ctx, msg, q)
		if err != nil {
			return err
		}
		ir, ok := inputRequired(final)
		if !ok {
			q.Push(final)
			return nil
		}
		if round >= maxInputRounds {
			q.Push(mcp.NewErrorResponse(req.ID, mcp.Errorf(mcp.CodeUpstreamProtocol, "upstream asked for input more than %d times", maxInputRounds)))
			return nil
		}
		responses, rpcErr := t.ask(ctx, ir.InputRequests, q)
		if rpcErr != nil {
			q.Push(mcp.NewErrorResponse(req.ID, rpcErr))
			return nil
		}
		extra := map[string]json.RawMessage{"inputResponses": responses}
		if ir.RequestState != nil {
			extra["requestState"] = ir.RequestState
		}
		if params, err = t.withMeta(req.Params, extra); err != nil {
			return err
		}
	}
}

// forward sends one round and returns its final message, pushing interim
// notifications onto q.
func (t *translated) forward(ctx context.Context, msg *mcp.Message, q *upstream.Queue) (*mcp.Message, error) {
	reply, err := t.conn.Forward(ctx, msg, modernHeaders(msg))
	if err != nil {
		return nil, err
	}
	if reply.Stream == nil {
		m, perr := mcp.Parse(reply.Body)
		if perr != nil || m.Kind() != mcp.KindResponse {
			return mcp.NewErrorResponse(msg.ID, mcp.Errorf(mcp.CodeUpstreamProtocol, "upstream answered HTTP %d without a JSON-RPC response", reply.Status)), nil
		}
		return m, nil
	}
	defer reply.Stream.Close()
	for {
		m, err := reply.Stream.Next(ctx)
		if err != nil {
			return nil, err
		}
		if m.Kind() == mcp.KindResponse {
			return m, nil
		}
		q.Push(m)
	}
}

// inputRequiredResult is the part of an input_required result read here.
type inputRequiredResult struct {
	ResultType    string                     `json:"resultType"`
	InputRequests map[string]json.RawMessage `json:"inputRequests"`
	RequestState  json.RawMessage            `json:"requestState"`
}

func inputRequired(m *mcp.Message) (*inputRequiredResult, bool) {
	if m.Result == nil {
		return nil, false
	}
	var r inputRequiredResult
	if json.Unmarshal(m.Result, &r) != nil || r.ResultType != "input_required" {
		return nil, false
	}
	return &r, true
}

// ask sends each input request to the client as a server-to-client
// request on the call's stream and waits for all the answers.
func (t *translated) ask(ctx context.Context, requests map[string]json.RawMessage, q *upstream.Queue) (json.RawMessage, *mcp.Error) {
	type pending struct {
		key string
		id  string
		ch  chan *mcp.Message
	}
	var waits []pending
	defer func() {
		t.mu.Lock()
		for _, w := range waits {
			delete(t.waiters, w.id)
		}
		t.mu.Unlock()
	}()
	for key, raw := range requests {
		var r struct {
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		if err := json.Unmarshal(raw, &r); err != nil || r.Method == "" {
			return nil, mcp.Errorf(mcp.CodeUpstreamProtocol, "upstream sent a malformed input request %q", key)
		}
		id := "gatehouse-input-" + randomHex(8)
		ch := make(chan *mcp.Message, 1)
		t.mu.Lock()
		t.waiters[`"`+id+`"`] = ch
		t.mu.Unlock()
		waits = append(waits, pending{key: key, id: `"` + id + `"`, ch: ch})
		q.Push(&mcp.Message{JSONRPC: "2.0", ID: json.RawMessage(`"` + id + `"`), Method: r.Method, Params: r.Params})
	}
	out := make(map[string]json.RawMessage, len(waits))
	for _, w := range waits {
		select {
		case m := <-w.ch:
			if m.Error != nil {
				return nil, mcp.Errorf(mcp.CodeInvalidRequest, "the client refused the upstream's %s request: %s", w.key, m.Error.Message)
			}
			out[w.key] = m.Result
		case <-ctx.Done():
			return nil, mcp.Errorf(mcp.CodeUpstreamTimeout, "no answer from the client to the upstream's input request %q", w.key)
		}
	}
	raw, err := json.Marshal(out)
	if err != nil {
		return nil, mcp.Errorf(mcp.CodeInternalError, "encode input responses: %v", err)
	}
	return raw, nil
}

// Send implements the session backend: answers to input requests are
// collected; cancellations stop the call; other notifications have no
// modern counterpart and are dropped.
func (t *translated) Send(_ context.Context, msg *mcp.Message) error {
	switch {
	case msg.Kind() == mcp.KindResponse:
		t.mu.Lock()
		ch := t.waiters[msg.IDKey()]
		t.mu.Unlock()
		if ch != nil {
			select {
			case ch <- msg:
			default:
			}
		}
	case msg.Method == mcp.MethodCancelled:
		var p struct {
			RequestID json.RawMessage `json:"requestId"`
		}
		if json.Unmarshal(msg.Params, &p) == nil {
			t.mu.Lock()
			cancel := t.inflight[string(p.RequestID)]
			t.mu.Unlock()
			if cancel != nil {
				cancel()
			}
		}
	}
	return nil
}

// Listen implements the session backend: the client's GET stream is fed
// by an upstream subscriptions/listen for list changes and the resources
// the client subscribed to.
func (t *translated) Listen(context.Context) (upstream.Stream, error) {
	t.mu.Lock()
	start := !t.listening
	t.listening = true
	t.mu.Unlock()
	if start {
		t.relisten()
	}
	return upstream.SharedStream(t.events), nil
}

// relisten (re)opens the upstream subscription with the current filter,
// once the client listens at all.
func (t *translated) relisten() {
	t.mu.Lock()
	if !t.listening || t.closedListen {
		t.mu.Unlock()
		return
	}
	if t.stopListen != nil {
		t.stopListen()
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.stopListen = cancel
	uris := make([]string, 0, len(t.resources))
	for u := range t.resources {
		uris = append(uris, u)
	}
	t.mu.Unlock()
	go t.listen(ctx, uris)
}

// listen relays one upstream subscription into events until ctx ends,
// reconnecting (after a pause) when the upstream ends it.
func (t *translated) listen(ctx context.Context, uris []string) {
	filter := map[string]any{"toolsListChanged": true, "promptsListChanged": true, "resourcesListChanged": true}
	if len(uris) > 0 {
		filter["resourceSubscriptions"] = uris
	}
	raw, _ := json.Marshal(filter)
	for ctx.Err() == nil {
		params, err := t.withMeta(nil, map[string]json.RawMessage{"notifications": raw})
		if err != nil {
			return
		}
		msg := &mcp.Message{JSONRPC: "2.0", ID: json.RawMessage(`"gatehouse-listen-` + randomHex(8) + `"`), Method: mcp.MethodSubscriptionsListen, Params: params}
		reply, err := t.conn.Forward(ctx, msg, modernHeaders(msg))
		if err == nil && reply.Stream == nil {
			return // the upstream offers no subscriptions
		}
		if err == nil {
			st := &listenStream{Stream: reply.Stream}
			for {
				m, err := st.Next(ctx)
				if err != nil {
					break
				}
				t.events.Push(m)
			}
			st.Close()
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// listenStream drops the subscription's own acknowledgement.
type listenStream struct{ upstream.Stream }

func (l *listenStream) Next(ctx context.Context) (*mcp.Message, error) {
	for {
		m, err := l.Stream.Next(ctx)
		if err != nil || m.Method != mcp.MethodSubscriptionsAcknowledged {
			return m, err
		}
	}
}

// Cancel implements the session backend.
func (t *translated) Cancel(id json.RawMessage) {
	t.mu.Lock()
	cancel := t.inflight[string(id)]
	t.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Close implements the session backend: calls in flight and the
// subscription are cancelled.
func (t *translated) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, cancel := range t.inflight {
		cancel()
	}
	t.closedListen = true
	if t.stopListen != nil {
		t.stopListen()
	}
	t.events.Finish(upstream.ErrClosed)
}
