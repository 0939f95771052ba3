package proxy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/era"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/rpcerr"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// parkedTTL bounds how long a call waiting for the client's input stays.
const parkedTTL = 5 * time.Minute

// Modern serves a 2026-07-28 request on a connector whose upstream speaks
// only the legacy era (or on the aggregate endpoint, slug ""): the gateway holds a legacy session per user and
// client capabilities, rewrites ids so independent requests never clash,
// turns server-to-client requests into input_required results (parking
// the upstream call until the client retries with its answers), and
// synthesises server/discover and subscriptions/listen.
//
// params holds the request's Mcp-Param-* headers, names lowercased and
// without the prefix.
func (p *Proxy) Modern(ctx context.Context, principal auth.Principal, slug string, req *mcp.Message, params map[string]string) (upstream.Stream, error) {
	q := upstream.NewQueue(0)
	if rpcErr := p.opts.Limits.nameError(req, slug == ""); rpcErr != nil {
		return errorAnswer(q, req, rpcErr), nil
	}
	meta, rpcErr := era.Modern{}.Meta(req)
	if rpcErr != nil {
		return errorAnswer(q, req, rpcErr), nil
	}
	if !(era.Modern{}).Has(req.Method) {
		return errorAnswer(q, req, mcp.Errorf(mcp.CodeMethodNotFound, "method %q does not exist in protocol %s", req.Method, mcp.Version20260728)), nil
	}
	sh, err := p.sharedLegacy(ctx, principal, slug, meta)
	if err != nil {
		return nil, err
	}
	s := sh.session
	switch req.Method {
	case mcp.MethodServerDiscover:
		return answer(q, req, discoverFromInitialize(sh.init)), nil
	case mcp.MethodSubscriptionsListen:
		return sh.listen(req), nil
	}
	if req.Method == mcp.MethodToolsCall && slug != "" {
		bindings, err := sh.headerBindings(ctx)
		if err != nil {
			return nil, err
		}
		if rpcErr := checkParamHeaders(bindings, req, params); rpcErr != nil {
			return errorAnswer(q, req, rpcErr), nil
		}
	}
	if token := requestStateOf(req); token != "" {
		parked := p.parking.unpark(token)
		if parked == nil {
			// Gateway-issued states are random keys into a table: a state
			// not in it was tampered with, replayed or has expired.
			return errorAnswer(q, req, mcp.NewError(mcp.CodeInvalidParams, "invalid params: requestState is unknown, already used or expired; send the request again without it")), nil
		}
		go parked.resume(context.WithoutCancel(ctx), req, q)
		return q, nil
	}
	d := &downgraded{proxy: p, session: s, shared: sh, clientID: req.ID}
	up, err := d.upstreamRequest(req)
	if err != nil {
		return nil, err
	}
	// The upstream call may outlive this HTTP request: it is parked while
	// the client answers an input request, and ends by itself or its TTL.
	go d.start(context.WithoutCancel(ctx), up, q)
	return q, nil
}

// start sends the call, bounded by the call timeout until the upstream
// takes it, then relays it.
func (d *downgraded) start(ctx context.Context, up *mcp.Message, q *upstream.Queue) {
	callCtx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(d.proxy.opts.CallTimeout, cancel)
	st, err := d.session.Call(callCtx, up)
	if !timer.Stop() {
		if err == nil {
			st.Close()
		}
		err = context.DeadlineExceeded
	}
	if err != nil {
		cancel()
		e := rpcerr.ForConnector(d.session.Slug, err)
		if errors.Is(err, context.DeadlineExceeded) {
			e = mcp.Errorf(mcp.CodeUpstreamTimeout, "connector %q did not take %s within %s", d.session.Slug, up.Method, d.proxy.opts.CallTimeout)
		}
		q.Push(mcp.NewErrorResponse(d.clientID, modernError(e)))
		q.Finish(nil)
		return
	}
	d.stream = &cancelOnClose{Stream: st, cancel: cancel}
	d.relay(callCtx, q)
}

// cancelOnClose ends a call's context when its stream is closed.
type cancelOnClose struct {
	upstream.Stream
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.Stream.Close()
	c.cancel()
	return err
}

// sharedLegacy returns the legacy session serving principal's modern
// requests with these capabilities on slug, opening it on first use.
func (p *Proxy) sharedLegacy(ctx context.Context, principal auth.Principal, slug string, meta map[string]json.RawMessage) (*sharedSession, error) {
	caps := meta[mcp.MetaClientCapabilities]
	sum := sha256.Sum256(caps)
	key := principal.User + "\x00" + slug + "\x00" + hex.EncodeToString(sum[:8])
	p.mu.Lock()
	if sh := p.shared[key]; sh != nil && p.sessions[sh.session.ID] == sh.session {
		p.mu.Unlock()
		sh.session.touch()
		return sh, nil
	}
	p.mu.Unlock()
	info := meta[mcp.MetaClientInfo]
	if info == nil {
		info = json.RawMessage(`{"name":"gatehouse-modern-client","version":"unknown"}`)
	}
	params, err := json.Marshal(map[string]json.RawMessage{
		"protocolVersion": json.RawMessage(strconv.Quote(mcp.LatestLegacyVersion)),
		"capabilities":    caps,
		"clientInfo":      info,
	})
	if err != nil {
		return nil, err
	}
	init := &mcp.Message{JSONRPC: "2.0", ID: json.RawMessage(`"gatehouse-downgrade-init"`), Method: mcp.MethodInitialize, Params: params}
	var (
		s    *Session
		resp *mcp.Message
	)
	if slug == "" {
		// The aggregate endpoint: an aggregate session (registered by
		// InitializeAggregate) speaks legacy to its connectors' sessions.
		s, resp, err = p.InitializeAggregate(ctx, principal, init)
	} else {
		s, resp, err = p.openReady(ctx, principal, slug, init, true)
		if err == nil {
			// An approval's elicitation travels like the upstream's own
			// requests: an input_required result, answered on the retry.
			s.elicit = elicits(params)
			p.register(s)
		}
	}
	if err != nil {
		return nil, err
	}
	sh := &sharedSession{session: s, init: resp.Result, subs: map[*subscription]bool{}}
	p.mu.Lock()
	p.shared[key] = sh
	p.mu.Unlock()
	go sh.drain()
	return sh, nil
}

// drain routes the session's unsolicited messages: list changes to the
// subscriptions (nothing else has a modern destination).
func (sh *sharedSession) drain() {
	ctx := context.Background()
	st, err := sh.session.Listen(ctx)
	if err != nil {
		return
	}
	defer st.Close()
	for {
		m, err := st.Next(ctx)
		if err != nil {
			sh.mu.Lock()
			for sub := range sh.subs {
				sub.q.Finish(nil)
			}
			sh.mu.Unlock()
			return
		}
		if isListChanged(m) {
			sh.notify(m)
		}
	}
}

type sharedSession struct {
	session *Session
	init    json.RawMessage

	mu       sync.Mutex
	subs     map[*subscription]bool
	bindings toolHeaders // tool → argument → Mcp-Param header, once fetched
}

// subscription is one client's subscriptions/listen stream.
type subscription struct {
	id   string
	want map[string]bool
	q    *upstream.Queue
}

// notify delivers a list-changed notification to the subscriptions that
// asked for it, tagged with their ids.
func (sh *sharedSession) notify(m *mcp.Message) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if m.Method == mcp.MethodToolsListChanged {
		sh.bindings = nil // re-read the tools' header bindings on next use
	}
	for sub := range sh.subs {
		if !sub.want[m.Method] {
			continue
		}
		if tagged, err := mcp.NewNotification(m.Method, map[string]any{"_meta": map[string]any{mcp.MetaSubscriptionID: sub.id}}); err == nil {
			sub.q.Push(tagged)
		}
	}
}

// isListChanged reports the notifications that belong on subscription
// streams rather than on the stream of the call during which they came.
func isListChanged(m *mcp.Message) bool {
	switch m.Method {
	case mcp.MethodToolsListChanged, mcp.MethodPromptsListChanged, mcp.MethodResourcesListChanged:
		return true
	}
	return false
}

// discoverFromInitialize builds a server/discover result from a legacy
// initialize result.
func discoverFromInitialize(init json.RawMessage) json.RawMessage {
	var r struct {
		Capabilities json.RawMessage `json:"capabilities"`
		ServerInfo   json.RawMessage `json:"serverInfo"`
		Instructions string          `json:"instructions,omitempty"`
	}
	_ = json.Unmarshal(init, &r)
	out, _ := json.Marshal(map[string]any{
		"resultType":        "complete",
		"supportedVersions": []string{mcp.Version20260728},
		"capabilities":      orEmpty(r.Capabilities),
		"instructions":      r.Instructions,
		"_meta":             map[string]json.RawMessage{mcp.MetaServerInfo: orEmpty(r.ServerInfo)},
	})
	return out
}

func orEmpty(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return json.RawMessage(`{}`)
	}
	return raw
}

func requestStateOf(req *mcp.Message) string {
	var p struct {
		RequestState string `json:"requestState"`
	}
	_ = json.Unmarshal(req.Params, &p)
	return p.RequestState
}

// downgraded is one modern call relayed over a legacy session.
type downgraded struct {
	proxy    *Proxy
	session  *Session
	shared   *sharedSession
	clientID json.RawMessage
	upID     json.RawMessage
	stream   upstream.Stream
	// asked maps the input request keys sent to the client to the
	// upstream's request ids.
	asked map[string]json.RawMessage
}

// upstreamRequest rewrites req for the legacy upstream: a gateway id, and
// _meta without the modern keys (progressToken and others stay).
func (d *downgraded) upstreamRequest(req *mcp.Message) (*mcp.Message, error) {
	d.upID = d.proxy.parking.nextID()
	params := map[string]json.RawMessage{}
	if len(req.Params) > 0 {
		if err := json.Unmarshal(req.Params, &params); err != nil {
			return nil, mcp.NewError(mcp.CodeInvalidParams, "params must be an object")
		}
	}
	var meta map[string]json.RawMessage
	_ = json.Unmarshal(params["_meta"], &meta)
	for _, k := range []string{mcp.MetaProtocolVersion, mcp.MetaClientCapabilities, mcp.MetaClientInfo, mcp.MetaLogLevel} {
		delete(meta, k)
	}
	if len(meta) == 0 {
		delete(params, "_meta")
	} else {
		params["_meta"], _ = json.Marshal(meta)
	}
	delete(params, "inputResponses")
	delete(params, "requestState")
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	return &mcp.Message{JSONRPC: "2.0", ID: d.upID, Method: req.Method, Params: raw}, nil
}

// relay copies the upstream call to q until its answer, or until the
// upstream asks the client something: then the call is parked and the
// client gets an input_required result.
func (d *downgraded) relay(ctx context.Context, q *upstream.Queue) {
	for {
		nctx, cancel := context.WithTimeout(ctx, d.proxy.opts.CallTimeout)
		m, err := d.stream.Next(nctx)
		cancel()
		if err != nil {
			e := rpcerr.ForConnector(d.session.Slug, err)
			if errors.Is(err, context.DeadlineExceeded) {
				d.session.Cancel(d.upID, "gateway timeout")
				e = mcp.Errorf(mcp.CodeUpstreamTimeout, "connector %q did not answer within %s", d.session.Slug, d.proxy.opts.CallTimeout)
			}
			d.stream.Close()
			q.Push(mcp.NewErrorResponse(d.clientID, e))
			q.Finish(nil)
			return
		}
		switch m.Kind() {
		case mcp.KindResponse:
			d.stream.Close()
			q.Push(d.complete(m))
			q.Finish(nil)
			return
		case mcp.KindRequest:
			q.Push(d.park(m))
			q.Finish(nil)
			return
		default:
			if isListChanged(m) {
				d.shared.notify(m)
				continue
			}
			q.Push(m)
		}
	}
}

// complete gives the upstream's answer the client's id and resultType.
func (d *downgraded) complete(m *mcp.Message) *mcp.Message {
	if m.Error != nil {
		return mcp.NewErrorResponse(d.clientID, modernError(m.Error))
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(m.Result, &obj) != nil || obj == nil {
		return &mcp.Message{JSONRPC: "2.0", ID: d.clientID, Result: m.Result}
	}
	if _, ok := obj["resultType"]; !ok {
		obj["resultType"] = json.RawMessage(`"complete"`)
	}
	raw, _ := json.Marshal(obj)
	return &mcp.Message{JSONRPC: "2.0", ID: d.clientID, Result: raw}
}

// park stores the call and returns an input_required result asking the
// client what the upstream asked.
func (d *downgraded) park(req *mcp.Message) *mcp.Message {
	key := "r-" + randomHex(6)
	d.asked = map[string]json.RawMessage{key: req.ID}
	token := randomHex(16)
	d.proxy.parking.park(token, d)
	time.AfterFunc(parkedTTL, func() {
		if p := d.proxy.parking.unpark(token); p != nil {
			p.stream.Close()
		}
	})
	inputs, _ := json.Marshal(map[string]any{key: map[string]json.RawMessage{"method": json.RawMessage(strconv.Quote(req.Method)), "params": orEmpty(req.Params)}})
	res, _ := json.Marshal(map[string]json.RawMessage{
		"resultType":    json.RawMessage(`"input_required"`),
		"inputRequests": inputs,
		"requestState":  json.RawMessage(strconv.Quote(token)),
	})
	return &mcp.Message{JSONRPC: "2.0", ID: d.clientID, Result: res}
}

// resume answers the upstream's questions with the client's inputResponses
// and goes on relaying the parked call.
func (d *downgraded) resume(ctx context.Context, retry *mcp.Message, q *upstream.Queue) {
	d.clientID = retry.ID
	var p struct {
		InputResponses map[string]json.RawMessage `json:"inputResponses"`
	}
	_ = json.Unmarshal(retry.Params, &p)
	for key, upID := range d.asked {
		result, ok := p.InputResponses[key]
		if !ok {
			d.stream.Close()
			q.Push(mcp.NewErrorResponse(retry.ID, mcp.Errorf(mcp.CodeInvalidParams, "inputResponses lacks %q", key)))
			q.Finish(nil)
			return
		}
		if err := d.session.Send(ctx, &mcp.Message{JSONRPC: "2.0", ID: upID, Result: result}); err != nil {
			d.stream.Close()
			q.Push(mcp.NewErrorResponse(retry.ID, rpcerr.ForConnector(d.session.Slug, err)))
			q.Finish(nil)
			return
		}
	}
	d.relay(ctx, q)
}

// listen serves subscriptions/listen: an acknowledgement, then the list
// changes the client asked for, tagged with the subscription id.
func (sh *sharedSession) listen(req *mcp.Message) upstream.Stream {
	var params struct {
		Notifications struct {
			ToolsListChanged     bool `json:"toolsListChanged"`
			PromptsListChanged   bool `json:"promptsListChanged"`
			ResourcesListChanged bool `json:"resourcesListChanged"`
		} `json:"notifications"`
	}
	_ = json.Unmarshal(req.Params, &params)
	sub := &subscription{
		id: randomHex(8),
		want: map[string]bool{
			mcp.MethodToolsListChanged:     params.Notifications.ToolsListChanged,
			mcp.MethodPromptsListChanged:   params.Notifications.PromptsListChanged,
			mcp.MethodResourcesListChanged: params.Notifications.ResourcesListChanged,
		},
		q: upstream.NewQueue(1024),
	}
	ack, _ := mcp.NewNotification(mcp.MethodSubscriptionsAcknowledged, map[string]any{"_meta": map[string]any{mcp.MetaSubscriptionID: sub.id}})
	sub.q.Push(ack)
	sh.mu.Lock()
	sh.subs[sub] = true
	sh.mu.Unlock()
	sub.q.OnClose(func() {
		sh.mu.Lock()
		delete(sh.subs, sub)
		sh.mu.Unlock()
	})
	return sub.q
}
