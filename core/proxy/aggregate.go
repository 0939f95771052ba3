package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
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
// the listing that announced them first (a later connector listing the
// same URI or template loses it: see claim); server-to-client requests get
// gateway-issued ids so that two upstreams' ids never collide.
type aggregate struct {
	proxy     *Proxy
	principal auth.Principal
	init      json.RawMessage

	mu          sync.Mutex
	children    map[string]*Session
	initialized bool
	resourceOf  map[string]string // resource URI → slug that listed it first
	templateOf  map[string]string // URI template → slug that listed it first
	collided    map[string]bool   // collisions logged already
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
		children: map[string]*Session{}, resourceOf: map[string]string{}, templateOf: map[string]string{}, collided: map[string]bool{}, pending: map[string]pendingRequest{},
		inflight: map[string]string{}, events: upstream.NewQueue(1024),
	}
	s := &Session{ID: newSessionID(), User: principal.User, proxy: p, principal: principal, initParam: init.Params, lastUsed: time.Now(), backend: a}
	if !principal.System {
		release, refused := p.limits.take(sessions, principal.User, "")
		if refused != nil {
			return nil, nil, p.refuse(principal.User, "", refused)
		}
		s.leases = []func(){release}
	}
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
		"instructions": "Tools and prompts of every connector you may use, named {connector}" + Separator + "{name}." + p.searchInstructions(),
	})
	if err != nil {
		s.closeUpstream()
		return nil, nil, err
	}
	p.register(s)
	return s, result, nil
}

// visible lists the active connectors the user may see and is granted
// something on.
func (a *aggregate) visible() []*connector.Connector {
	var out []*connector.Connector
	who := a.proxy.refresh(a.principal)
	gate := a.proxy.opts.Access
	for _, c := range a.proxy.connectors.List() {
		if c.VisibleTo(who.User, who.Roles) && c.Status == connector.StatusActive && (gate == nil || gate.MayUse(who, c)) {
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
	s, _, err := a.proxy.openReady(ctx, a.proxy.refresh(a.principal), slug, init, false)
	if err != nil {
		return nil, err
	}
	// The aggregate relays a child's requests to its client and the
	// answers back (fromChild, Send), approvals' elicitations included.
	s.elicit = elicits(a.init)
	s.aggregated = true
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

// childOn returns the open child on slug, if any.
func (a *aggregate) childOn(slug string) *Session {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.children[slug]
}

// drop closes child s on slug (evicted to make room under the limits);
// the next request to slug opens a new one.
func (a *aggregate) drop(slug string, s *Session) {
	a.mu.Lock()
	if a.children[slug] == s {
		delete(a.children, slug)
	}
	a.mu.Unlock()
	s.closeUpstream()
}

// forget drops the child of a connector that changed, and the resource
// URIs and templates it owned.
func (a *aggregate) forget(slug string) {
	a.mu.Lock()
	s := a.children[slug]
	delete(a.children, slug)
	for _, owners := range []map[string]string{a.resourceOf, a.templateOf} {
		for key, owner := range owners {
			if owner == slug {
				delete(owners, key)
			}
		}
	}
	a.mu.Unlock()
	if s != nil {
		s.closeUpstream()
	}
	n, _ := mcp.NewNotification(mcp.MethodToolsListChanged, nil)
	a.events.Push(n)
}

// Call implements the session backend.
func (a *aggregate) Call(ctx context.Context, req *mcp.Message) (upstream.Stream, error) {
	return a.relay(ctx, req, nil)
}

// relay is Call for the client's own request: f learns how a routed
// request's upstream framed its answer (merged answers are streams).
func (a *aggregate) relay(ctx context.Context, req *mcp.Message, f *upstream.Framing) (upstream.Stream, error) {
	if a.proxy.searchesOn("") {
		if st, handled, err := a.proxy.searchAnswer(ctx, req, a.searchEndpoint()); handled {
			return st, err
		}
	}
	switch req.Method {
	case mcp.MethodPing:
		return answer(upstream.NewQueue(0), req, json.RawMessage(`{}`)), nil
	case mcp.MethodToolsList:
		return a.list(ctx, req, "tools", true)
	case mcp.MethodPromptsList:
		return a.list(ctx, req, "prompts", true)
	case mcp.MethodResourcesList:
		return a.list(ctx, req, "resources", false)
	case mcp.MethodResourceTemplates:
		return a.list(ctx, req, "resourceTemplates", false)
	case mcp.MethodToolsCall, mcp.MethodPromptsGet:
		return a.routeByName(ctx, req, f)
	case mcp.MethodResourcesRead, mcp.MethodResourcesSubscribe, mcp.MethodResourcesUnsubscribe:
		return a.routeByURI(ctx, req, f)
	case mcp.MethodCompletionComplete:
		return a.routeCompletion(ctx, req, f)
	case mcp.MethodLoggingSetLevel:
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
