package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// Separator joins a connector slug and a tool or prompt name on the
// aggregate endpoint (slugs cannot contain it).
const Separator = "__"

// maxListPages bounds the pages fetched from one upstream for one listing.
const maxListPages = 100

// aggregate serves /mcp: one client session over every connector the user
// may see. Per-connector sessions open lazily; tool and prompt names are
// namespaced "{slug}__{name}"; resources keep their URIs and are routed by
// the listing that announced them; server-to-client requests get
// gateway-issued ids so that two upstreams' ids never collide.
type aggregate struct {
	proxy     *Proxy
	principal auth.Principal
	init      json.RawMessage

	mu          sync.Mutex
	children    map[string]*Session
	initialized bool
	resourceOf  map[string]string // resource URI → slug
	pending     map[string]pendingRequest
	inflight    map[string]string // client request id → slug
	nextID      int64
	events      *upstream.Queue
	closed      bool
}

type pendingRequest struct {
	slug string
	id   json.RawMessage
}

// InitializeAggregate opens an aggregate session for principal and answers
// the client's initialize itself.
func (p *Proxy) InitializeAggregate(ctx context.Context, principal auth.Principal, init *mcp.Message) (*Session, *mcp.Message, error) {
	var ip struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	_ = json.Unmarshal(init.Params, &ip)
	version := ip.ProtocolVersion
	if !mcp.IsLegacyVersion(version) {
		version = mcp.LatestLegacyVersion
	}
	a := &aggregate{
		proxy: p, principal: principal, init: init.Params,
		children: map[string]*Session{}, resourceOf: map[string]string{}, pending: map[string]pendingRequest{},
		inflight: map[string]string{}, events: upstream.NewQueue(1024),
	}
	s := &Session{ID: newSessionID(), User: principal.User, proxy: p, initParam: init.Params, lastUsed: time.Now(), backend: a}
	result, err := mcp.NewResult(init.ID, map[string]any{
		"protocolVersion": version,
		"capabilities": map[string]any{
			"tools":       map[string]any{"listChanged": true},
			"prompts":     map[string]any{"listChanged": true},
			"resources":   map[string]any{"listChanged": true, "subscribe": true},
			"logging":     map[string]any{},
			"completions": map[string]any{},
		},
		"serverInfo":   map[string]any{"name": "gatehouse", "title": "Gatehouse (all connectors)", "version": "0.1.0"},
		"instructions": "Tools and prompts of every connector you may use, named {connector}" + Separator + "{name}.",
	})
	if err != nil {
		return nil, nil, err
	}
	p.register(s)
	return s, result, nil
}

// visible lists the active connectors the user may use.
func (a *aggregate) visible() []*connector.Connector {
	var out []*connector.Connector
	for _, c := range a.proxy.connectors.List() {
		if c.VisibleTo(a.principal.User) && c.Status == connector.StatusActive {
			out = append(out, c)
		}
	}
	return out
}

// child returns the session on slug, opening it on first use.
func (a *aggregate) child(ctx context.Context, slug string) (*Session, error) {
	a.mu.Lock()
	if s := a.children[slug]; s != nil {
		a.mu.Unlock()
		return s, nil
	}
	a.mu.Unlock()
	init := &mcp.Message{JSONRPC: "2.0", ID: json.RawMessage(`"gatehouse-aggregate-init"`), Method: mcp.MethodInitialize, Params: a.init}
	s, _, err := a.proxy.openReady(ctx, a.principal, slug, init)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	if existing := a.children[slug]; existing != nil || a.closed {
		a.mu.Unlock()
		s.closeUpstream()
		if existing == nil {
			return nil, ErrSessionNotFound
		}
		return existing, nil
	}
	a.children[slug] = s
	a.mu.Unlock()
	go a.drain(slug, s)
	return s, nil
}

// drain copies a child's unsolicited messages to the aggregate's events.
func (a *aggregate) drain(slug string, s *Session) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := s.Listen(ctx)
	if err != nil {
		return
	}
	defer st.Close()
	for {
		m, err := st.Next(ctx)
		if err != nil {
			return
		}
		a.events.Push(a.fromChild(slug, m))
		a.mu.Lock()
		gone := a.children[slug] != s
		a.mu.Unlock()
		if gone {
			return
		}
	}
}

// fromChild renames what a child sends so the client sees one server.
func (a *aggregate) fromChild(slug string, m *mcp.Message) *mcp.Message {
	if m.Kind() != mcp.KindRequest {
		return m
	}
	a.mu.Lock()
	a.nextID++
	id := json.RawMessage(strconv.Quote("gh-" + strconv.FormatInt(a.nextID, 10)))
	a.pending[string(id)] = pendingRequest{slug: slug, id: m.ID}
	a.mu.Unlock()
	return &mcp.Message{JSONRPC: "2.0", ID: id, Method: m.Method, Params: m.Params}
}

// forget drops the child of a connector that changed.
func (a *aggregate) forget(slug string) {
	a.mu.Lock()
	s := a.children[slug]
	delete(a.children, slug)
	a.mu.Unlock()
	if s != nil {
		s.closeUpstream()
	}
	n, _ := mcp.NewNotification("notifications/tools/list_changed", nil)
	a.events.Push(n)
}

// Call implements the session backend.
func (a *aggregate) Call(ctx context.Context, req *mcp.Message) (upstream.Stream, error) {
	switch req.Method {
	case mcp.MethodPing:
		return answer(upstream.NewQueue(0), req, json.RawMessage(`{}`)), nil
	case mcp.MethodToolsList:
		return a.list(ctx, req, "tools", true)
	case "prompts/list":
		return a.list(ctx, req, "prompts", true)
	case "resources/list":
		return a.list(ctx, req, "resources", false)
	case "resources/templates/list":
		return a.list(ctx, req, "resourceTemplates", false)
	case mcp.MethodToolsCall, "prompts/get":
		return a.routeByName(ctx, req)
	case "resources/read", "resources/subscribe", "resources/unsubscribe":
		return a.routeByURI(ctx, req)
	case "completion/complete":
		return a.routeCompletion(ctx, req)
	case "logging/setLevel":
		a.mu.Lock()
		children := make([]*Session, 0, len(a.children))
		for _, s := range a.children {
			children = append(children, s)
		}
		a.mu.Unlock()
		for _, s := range children {
			if st, err := s.Call(ctx, req); err == nil {
				_, _ = lastMessage(ctx, st)
			}
		}
		return answer(upstream.NewQueue(0), req, json.RawMessage(`{}`)), nil
	default:
		return errorAnswer(upstream.NewQueue(0), req, mcp.Errorf(mcp.CodeMethodNotFound, "method %q is not available on the aggregate endpoint /mcp; use /mcp/{connector}", req.Method)), nil
	}
}

// list fans a listing out to every visible connector offering it and
// merges the answers in slug order, renaming names when rename is set.
func (a *aggregate) list(ctx context.Context, req *mcp.Message, field string, rename bool) (upstream.Stream, error) {
	conns := a.visible()
	parts := make([][]json.RawMessage, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			items, err := a.listOne(ctx, c.Slug, req.Method, field)
			if err != nil {
				a.proxy.log.Warn().Err(err).Str("connector", c.Slug).Str("method", req.Method).Msg("aggregate listing skipped a connector")
				return
			}
			parts[i] = items
		}()
	}
	wg.Wait()
	merged := []json.RawMessage{}
	for i, c := range conns {
		for _, item := range parts[i] {
			out, err := a.renameItem(c.Slug, item, rename, field)
			if err != nil {
				continue
			}
			merged = append(merged, out)
		}
	}
	res, err := json.Marshal(map[string]any{field: merged})
	if err != nil {
		return nil, err
	}
	return answer(upstream.NewQueue(0), req, res), nil
}

// listOne fetches every page of a listing from one connector.
func (a *aggregate) listOne(ctx context.Context, slug, method, field string) ([]json.RawMessage, error) {
	s, err := a.child(ctx, slug)
	if err != nil {
		return nil, err
	}
	var items []json.RawMessage
	cursor := ""
	for page := 0; page < maxListPages; page++ {
		params := map[string]any{}
		if cursor != "" {
			params["cursor"] = cursor
		}
		req, err := mcp.NewRequest(json.RawMessage(`"gh-list-`+strconv.Itoa(page)+`"`), method, params)
		if err != nil {
			return nil, err
		}
		st, err := s.Call(ctx, req)
		if err != nil {
			return nil, err
		}
		m, err := lastMessage(ctx, st)
		if err != nil {
			return nil, err
		}
		if m.Error != nil {
			if m.Error.Code == mcp.CodeMethodNotFound {
				return nil, nil // the connector offers none
			}
			return nil, m.Error
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(m.Result, &raw); err != nil {
			return nil, err
		}
		var pageItems []json.RawMessage
		if err := json.Unmarshal(raw[field], &pageItems); err != nil && raw[field] != nil {
			return nil, err
		}
		next := ""
		_ = json.Unmarshal(raw["nextCursor"], &next)
		items = append(items, pageItems...)
		if next == "" {
			return items, nil
		}
		cursor = next
	}
	return items, nil
}

// renameItem namespaces a tool or prompt, or records which connector owns
// a resource URI.
func (a *aggregate) renameItem(slug string, item json.RawMessage, rename bool, field string) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(item, &obj); err != nil {
		return nil, err
	}
	if rename {
		var name string
		if err := json.Unmarshal(obj["name"], &name); err != nil {
			return nil, err
		}
		obj["name"], _ = json.Marshal(slug + Separator + name)
		return json.Marshal(obj)
	}
	if field == "resources" {
		var uri string
		if json.Unmarshal(obj["uri"], &uri) == nil && uri != "" {
			a.mu.Lock()
			a.resourceOf[uri] = slug
			a.mu.Unlock()
		}
	}
	return item, nil
}

// routeByName sends a tools/call or prompts/get to the connector its
// namespaced name names, with the plain name.
func (a *aggregate) routeByName(ctx context.Context, req *mcp.Message) (upstream.Stream, error) {
	var params map[string]json.RawMessage
	if err := json.Unmarshal(req.Params, &params); err != nil {
		return errorAnswer(upstream.NewQueue(0), req, mcp.NewError(mcp.CodeInvalidParams, "params must be an object")), nil
	}
	var name string
	_ = json.Unmarshal(params["name"], &name)
	slug, plain, ok := strings.Cut(name, Separator)
	if !ok || slug == "" || plain == "" {
		return errorAnswer(upstream.NewQueue(0), req, mcp.Errorf(mcp.CodeInvalidParams, "%q is not a namespaced name; the aggregate endpoint names them {connector}%s{name}", name, Separator)), nil
	}
	params["name"], _ = json.Marshal(plain)
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	return a.forward(ctx, slug, &mcp.Message{JSONRPC: "2.0", ID: req.ID, Method: req.Method, Params: raw})
}

// routeByURI sends a resource request to the connector that listed the
// URI; an unlisted URI is refused rather than guessed.
func (a *aggregate) routeByURI(ctx context.Context, req *mcp.Message) (upstream.Stream, error) {
	uri := req.TargetName()
	a.mu.Lock()
	slug := a.resourceOf[uri]
	a.mu.Unlock()
	if slug == "" {
		return errorAnswer(upstream.NewQueue(0), req, mcp.Errorf(mcp.CodeInvalidParams, "resource %q is unknown here: list resources first (resources/list) so the gateway knows which connector serves it", uri)), nil
	}
	return a.forward(ctx, slug, req)
}

// routeCompletion routes completion/complete by its prompt or resource ref.
func (a *aggregate) routeCompletion(ctx context.Context, req *mcp.Message) (upstream.Stream, error) {
	var params map[string]json.RawMessage
	if err := json.Unmarshal(req.Params, &params); err != nil {
		return errorAnswer(upstream.NewQueue(0), req, mcp.NewError(mcp.CodeInvalidParams, "params must be an object")), nil
	}
	var ref map[string]json.RawMessage
	_ = json.Unmarshal(params["ref"], &ref)
	var name, uri string
	_ = json.Unmarshal(ref["name"], &name)
	_ = json.Unmarshal(ref["uri"], &uri)
	switch {
	case name != "":
		slug, plain, ok := strings.Cut(name, Separator)
		if !ok {
			return errorAnswer(upstream.NewQueue(0), req, mcp.Errorf(mcp.CodeInvalidParams, "%q is not a namespaced prompt name", name)), nil
		}
		ref["name"], _ = json.Marshal(plain)
		params["ref"], _ = json.Marshal(ref)
		raw, _ := json.Marshal(params)
		return a.forward(ctx, slug, &mcp.Message{JSONRPC: "2.0", ID: req.ID, Method: req.Method, Params: raw})
	case uri != "":
		a.mu.Lock()
		slug := a.resourceOf[uri]
		a.mu.Unlock()
		if slug != "" {
			return a.forward(ctx, slug, req)
		}
	}
	return errorAnswer(upstream.NewQueue(0), req, mcp.NewError(mcp.CodeInvalidParams, "completion/complete needs a namespaced prompt name or a listed resource URI")), nil
}

// forward sends req to the child on slug and relays its stream, renaming
// server-to-client requests.
func (a *aggregate) forward(ctx context.Context, slug string, req *mcp.Message) (upstream.Stream, error) {
	if _, rpcErr := a.proxy.Resolve(a.principal, slug); rpcErr != nil {
		return nil, rpcErr
	}
	s, err := a.child(ctx, slug)
	if err != nil {
		return nil, err
	}
	st, err := s.Call(ctx, req)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.inflight[req.IDKey()] = slug
	a.mu.Unlock()
	return &renamed{Stream: st, a: a, slug: slug, id: req.IDKey()}, nil
}

// renamed rewrites a child stream for the aggregate's client.
type renamed struct {
	upstream.Stream
	a    *aggregate
	slug string
	id   string
}

func (r *renamed) Unwrap() upstream.Stream { return r.Stream }

func (r *renamed) Next(ctx context.Context) (*mcp.Message, error) {
	m, err := r.Stream.Next(ctx)
	if err != nil {
		return nil, err
	}
	return r.a.fromChild(r.slug, m), nil
}

func (r *renamed) Close() error {
	r.a.mu.Lock()
	delete(r.a.inflight, r.id)
	r.a.mu.Unlock()
	return r.Stream.Close()
}

// Send implements the session backend.
func (a *aggregate) Send(ctx context.Context, msg *mcp.Message) error {
	switch {
	case msg.Kind() == mcp.KindResponse:
		a.mu.Lock()
		p, ok := a.pending[msg.IDKey()]
		delete(a.pending, msg.IDKey())
		s := a.children[p.slug]
		a.mu.Unlock()
		if !ok || s == nil {
			return nil // an answer to a request of a child that is gone
		}
		out := *msg
		out.ID, out.Raw = p.id, nil
		return s.Send(ctx, &out)
	case msg.Method == mcp.MethodInitialized:
		a.mu.Lock()
		a.initialized = true
		a.mu.Unlock()
		return nil
	case msg.Method == mcp.MethodCancelled:
		var p struct {
			RequestID json.RawMessage `json:"requestId"`
		}
		if json.Unmarshal(msg.Params, &p) != nil {
			return nil
		}
		a.mu.Lock()
		s := a.children[a.inflight[string(p.RequestID)]]
		a.mu.Unlock()
		if s != nil {
			return s.Send(ctx, msg)
		}
		return nil
	default:
		// roots/list_changed and the like concern every connector.
		a.mu.Lock()
		children := make([]*Session, 0, len(a.children))
		for _, s := range a.children {
			children = append(children, s)
		}
		a.mu.Unlock()
		for _, s := range children {
			_ = s.Send(ctx, msg)
		}
		return nil
	}
}

// Listen implements the session backend: every child's unsolicited
// messages, merged.
func (a *aggregate) Listen(context.Context) (upstream.Stream, error) {
	return upstream.SharedStream(a.events), nil
}

// Cancel implements the session backend.
func (a *aggregate) Cancel(id json.RawMessage) {
	a.mu.Lock()
	s := a.children[a.inflight[string(id)]]
	a.mu.Unlock()
	if s != nil {
		s.Cancel(id, "gateway timeout")
	}
}

// Close implements the session backend.
func (a *aggregate) Close() {
	a.mu.Lock()
	a.closed = true
	children := a.children
	a.children = map[string]*Session{}
	a.mu.Unlock()
	for _, s := range children {
		s.closeUpstream()
	}
	a.events.Finish(ErrSessionNotFound)
}

// lastMessage drains st and returns its final message.
func lastMessage(ctx context.Context, st upstream.Stream) (*mcp.Message, error) {
	defer st.Close()
	for {
		m, err := st.Next(ctx)
		if err != nil {
			return nil, fmt.Errorf("read answer: %w", err)
		}
		if m.Kind() == mcp.KindResponse {
			return m, nil
		}
	}
}
