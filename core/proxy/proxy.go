// Package proxy relays MCP sessions between clients and connectors. A
// client session on /mcp/{slug} maps to one upstream session that is
// dialled at initialize and re-dialled (with the client's initialize
// replayed, and backoff) when the upstream process crashes or forgets the
// session. The package knows nothing of HTTP: core/server adapts it.
package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/era"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/pipeline"
	"github.com/gatehouse-mcp/gatehouse/core/rpcerr"
	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
	"github.com/gatehouse-mcp/gatehouse/core/toolsearch"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/netguard"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/streamhttp"
)

// Connectors looks connectors up by slug; core/server keeps the snapshot.
type Connectors interface {
	Lookup(slug string) (*connector.Connector, bool)
	List() []*connector.Connector
}

// Credentials returns a user's placeholder values for a connector.
type Credentials interface {
	Get(ctx context.Context, user, slug string) (map[string]string, error)
}

// Options configure a Proxy.
type Options struct {
	CallTimeout          time.Duration
	IdleTimeout          time.Duration
	AllowPrivateNetworks bool
	// Dialers adds or replaces transports by name (a transport plugin's);
	// the built-in streamable-http, sse and stdio are always there unless
	// replaced.
	Dialers map[connector.Transport]Dialer
	// PrivateExceptions, when AllowPrivateNetworks is off, are the
	// private blocks and hosts an owner allowed at run time (nil: none).
	PrivateExceptions *netguard.Exceptions
	MaxMessageBytes   int
	// ObserveCall, when set, is told of every tools/call to a connector
	// once it ends, before its answer is relayed: it returns once the
	// record is durable (the audit log's group commit). An error withholds
	// the answer: the client gets CodeAuditUnavailable instead.
	ObserveCall func(context.Context, CallRecord) error
	// Guard, when set, inspects every tools/call answer before it is
	// relayed (ToolGuard's Tool Call and Tool Intent chains).
	Guard CallGuard
	// Tools, when set, pins tool definitions: tools/list answers lose
	// held tools, and calls to them are refused before the upstream.
	Tools ToolGate
	// Access, when set, enforces tool policies: listings narrowed to what
	// the caller may use; calls, reads and prompts decided (and tool
	// arguments validated) before the upstream; calls held for approval.
	Access AccessGate
	// Refresh, when set, re-reads a principal's roles for each request
	// of a session opened earlier (auth.Authenticator.Refresh).
	Refresh func(auth.Principal) auth.Principal
	// Offload, when set, stores tool outputs above a size and answers
	// with previews and links (core/offload); the resources capability
	// is then advertised on every connector that offloads.
	Offload pipeline.Offloader
	// Limits bound each user's and connector's sessions, STDIO processes
	// and requests in flight, and the names clients send.
	Limits Limits
	// UpstreamAuth, when set, supplies each user's upstream credential
	// for connectors whose upstream signs users in with OAuth
	// (upstreamauth.go).
	UpstreamAuth UpstreamAuth
	// Identity, when set, supplies the identity headers of connectors
	// that forward the caller's identity (advanced.identity_forward;
	// core/identity.Forwarder implements it).
	Identity IdentityForward
	// Decorator, when set, supplies the credentials of connectors with
	// auth kind plugin (an auth plugin's Decorate).
	Decorator UpstreamDecorator
	// ToolSearch says which endpoints offer tool search's meta-tools
	// instead of their full tools/list (toolsearch.go).
	ToolSearch ToolSearch
}

// ToolGate pins tool definitions (core/toolguard.Pins implements it).
type ToolGate interface {
	FilterList(ctx context.Context, c *connector.Connector, resp *mcp.Message) (*mcp.Message, error)
	Held(ctx context.Context, c *connector.Connector, tool string) (string, bool)
	Listed(ctx context.Context, c *connector.Connector, tool string) bool
}

// CallGuard inspects a tools/call answer from a connector and returns the
// answer to relay (core/toolguard.Engine implements it).
type CallGuard interface {
	GuardAnswer(ctx context.Context, c *connector.Connector, req, resp *mcp.Message, rd *toolguard.Reading) (*mcp.Message, toolguard.Outcome)
}

// Proxy owns the client sessions and the upstream connection pools.
type Proxy struct {
	connectors Connectors
	creds      Credentials
	opts       Options
	log        zerolog.Logger
	limits     *limiter
	// dialers open upstream sessions, by transport name.
	dialers map[connector.Transport]Dialer
	// eras caches each upstream's probed protocol era.
	eras *era.Probes
	// parking holds the modern calls relayed over legacy sessions.
	parking *parking

	mu       sync.Mutex
	sessions map[string]*Session
	clients  map[string]*http.Client // one pool per connector slug
	fast     map[string]*fasthttp.Client
	shared   map[string]*sharedSession

	// chain is the request chain every request to a connector runs;
	// stages its stateful stages (see newChain).
	chain  *pipeline.Chain
	stages eraStages
	// search keeps the tool-search indexes of the tool sets searched last.
	search *toolsearch.Cache

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// New returns a proxy and starts its idle-session reaper; Close stops it.
func New(connectors Connectors, creds Credentials, opts Options, log zerolog.Logger) *Proxy {
	p := &Proxy{
		connectors: connectors,
		creds:      creds,
		opts:       opts,
		log:        log,
		limits:     newLimiter(opts.Limits),
		dialers:    builtinDialers(),
		eras:       era.NewProbes(),
		sessions:   make(map[string]*Session),
		clients:    make(map[string]*http.Client),
		fast:       make(map[string]*fasthttp.Client),
		shared:     make(map[string]*sharedSession),
		search:     toolsearch.NewCache(searchCacheSize),
		parking:    newParking(),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	for name, d := range opts.Dialers {
		p.dialers[name] = d
	}
	p.stages = p.newEraStages()
	p.chain = p.newChain()
	go p.reap()
	return p
}

// CallTimeout is how long a call may go without any upstream message.
func (p *Proxy) CallTimeout() time.Duration { return p.opts.CallTimeout }

// ErrSessionNotFound is rpcerr's, named here where sessions live.
var ErrSessionNotFound = rpcerr.ErrSessionNotFound

// Resolve returns the connector slug names if principal may see it. It
// returns a JSON-RPC error ready for the client otherwise.
func (p *Proxy) Resolve(principal auth.Principal, slug string) (*connector.Connector, *mcp.Error) {
	c, ok := p.connectors.Lookup(slug)
	if !ok || !c.VisibleTo(principal.User, principal.Roles) {
		return nil, mcp.Errorf(mcp.CodeConnectorNotFound, "connector %q not found", slug)
	}
	if c.Status == connector.StatusDisabled {
		return nil, mcp.Errorf(mcp.CodeConnectorDisabled, "connector %q is disabled; an admin must activate it", slug)
	}
	return c, nil
}

// resolveUsable is Resolve for opening sessions and sessionless
// exchanges: the connector must also grant principal (with its current
// roles) something (a caller
// granted nothing gets a policy error instead of upstream sessions that
// can only answer empty listings).
func (p *Proxy) resolveUsable(principal auth.Principal, slug string) (*connector.Connector, *mcp.Error) {
	c, rpcErr := p.Resolve(principal, slug)
	if rpcErr != nil {
		return nil, rpcErr
	}
	if p.opts.Access != nil && !p.opts.Access.MayUse(principal, c) {
		return nil, access.Unusable(slug)
	}
	return c, nil
}

// Initialize opens a client session on connector slug: it dials the
// upstream, sends the client's initialize and returns the session and
// the upstream's answer.
func (p *Proxy) Initialize(ctx context.Context, principal auth.Principal, slug string, init *mcp.Message) (*Session, *mcp.Message, error) {
	s, resp, err := p.open(ctx, principal, slug, init, true)
	if err != nil || s == nil {
		return nil, resp, err
	}
	// Approvals are offered as elicitation requests on the client's own
	// sessions (also the aggregate's children and the shared sessions
	// serving modern clients, which relay them).
	s.elicit = elicits(init.Params)
	p.register(s)
	return s, resp, nil
}

func (p *Proxy) register(s *Session) {
	p.mu.Lock()
	p.sessions[s.ID] = s
	p.mu.Unlock()
	p.log.Info().Str("session", s.ID[:8]).Str("connector", s.Slug).Str("user", s.User).Msg("session opened")
}

// open initializes a session on connector slug without registering it
// (the aggregate endpoint keeps its per-connector sessions to itself). A
// nil session with a response means the upstream refused initialize.
// client says the session counts as one of the user's client sessions
// (not for an aggregate's children).
func (p *Proxy) open(ctx context.Context, principal auth.Principal, slug string, init *mcp.Message, client bool) (*Session, *mcp.Message, error) {
	c, rpcErr := p.resolveUsable(principal, slug)
	if rpcErr != nil {
		return nil, nil, rpcErr
	}
	s := &Session{
		ID:        newSessionID(),
		User:      principal.User,
		Slug:      slug,
		proxy:     p,
		principal: principal,
		initParam: init.Params,
		lastUsed:  time.Now(),
	}
	if err := s.lease(c, client); err != nil {
		return nil, nil, err
	}
	opened := false
	defer func() {
		if !opened {
			s.closeUpstream() // gives its places back
		}
	}()
	var resp *mcp.Message
	if c.Transport == connector.TransportStreamableHTTP {
		conn, err := p.modernConn(ctx, c, principal.User)
		if err != nil {
			return nil, nil, err
		}
		if p.translateLegacy(ctx, c, conn) {
			backend, result, err := newTranslated(ctx, conn, init.Params)
			if err != nil {
				return nil, nil, rpcerr.Unavailable(slug, err)
			}
			s.backend = backend
			resp = &mcp.Message{JSONRPC: "2.0", ID: init.ID, Result: result}
		}
	}
	if resp == nil {
		var err error
		if resp, err = s.connect(ctx, c, init.ID); err != nil {
			return nil, nil, err
		}
	}
	if resp.Error != nil {
		return nil, resp, nil
	}
	opened = true
	return s, p.advertiseOffload(c, resp), nil
}

// openReady opens a gateway-owned session on slug (the gateway is the
// client: aggregate children, shared sessions for modern clients) and
// completes the handshake with notifications/initialized; client is as
// for open.
func (p *Proxy) openReady(ctx context.Context, principal auth.Principal, slug string, init *mcp.Message, client bool) (*Session, *mcp.Message, error) {
	s, resp, err := p.open(ctx, principal, slug, init, client)
	if err != nil {
		return nil, nil, err
	}
	if s == nil {
		return nil, nil, mcp.Errorf(mcp.CodeUpstreamUnavailable, "connector %q refused initialize: %s", slug, resp.Error.Message)
	}
	if err := s.Send(ctx, &mcp.Message{JSONRPC: "2.0", Method: mcp.MethodInitialized}); err != nil {
		s.closeUpstream()
		return nil, nil, err
	}
	return s, resp, nil
}

// Session returns the open session id owned by principal.
func (p *Proxy) Session(id string, principal auth.Principal) (*Session, error) {
	p.mu.Lock()
	s := p.sessions[id]
	p.mu.Unlock()
	if s == nil || s.User != principal.User {
		return nil, ErrSessionNotFound
	}
	s.touch()
	return s, nil
}

// CloseSession ends a session and its upstream session.
func (p *Proxy) CloseSession(id string) {
	p.mu.Lock()
	s := p.sessions[id]
	delete(p.sessions, id)
	p.mu.Unlock()
	if s != nil {
		s.closeUpstream()
		p.log.Info().Str("session", id[:8]).Str("connector", s.Slug).Msg("session closed")
	}
}

// ConnectorChanged closes the sessions and the connection pool of a
// connector whose definition changed or that was deleted; clients
// re-initialize against the new definition.
func (p *Proxy) ConnectorChanged(slug string) {
	p.mu.Lock()
	var ids []string
	var aggregates []*Session
	for id, s := range p.sessions {
		switch {
		case s.Slug == slug:
			ids = append(ids, id)
		case s.Slug == "":
			aggregates = append(aggregates, s)
		}
	}
	client, fast := p.clients[slug], p.fast[slug]
	if p.stages.schemas != nil {
		p.stages.schemas.Forget(slug)
	}
	delete(p.clients, slug)
	delete(p.fast, slug)
	p.eras.Forget(slug)
	p.mu.Unlock()
	for _, id := range ids {
		p.CloseSession(id)
	}
	if p.opts.Access != nil {
		if c, ok := p.connectors.Lookup(slug); ok {
			p.opts.Access.Forget(c)
		}
	}
	for _, s := range aggregates {
		if a, ok := s.backend.(*aggregate); ok {
			a.forget(slug)
		}
	}
	if client != nil {
		client.CloseIdleConnections()
	}
	if fast != nil {
		fast.CloseIdleConnections()
	}
}

// Close ends every session. It is safe to call more than once.
func (p *Proxy) Close() {
	p.closeOnce.Do(p.close)
}

// InFlight is how many client requests wait for their answer now (calls
// held for an approval included; the gateway's own scans not), for a
// shutdown that drains them.
func (p *Proxy) InFlight() int { return p.limits.held(inflight) }

func (p *Proxy) close() {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	ids := make([]string, 0, len(p.sessions))
	for id := range p.sessions {
		ids = append(ids, id)
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() { defer wg.Done(); p.CloseSession(id) }()
	}
	wg.Wait()
}

func (p *Proxy) reap() {
	defer close(p.done)
	tick := time.NewTicker(p.opts.IdleTimeout / 4)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-tick.C:
			p.mu.Lock()
			var idle []string
			for id, s := range p.sessions {
				if s.idleSince(now) > p.opts.IdleTimeout {
					idle = append(idle, id)
				}
			}
			p.mu.Unlock()
			for _, id := range idle {
				p.log.Info().Str("session", id[:8]).Msg("closing idle session")
				p.CloseSession(id)
			}
		}
	}
}

// headers expands the connector's header placeholders with user's values
// and adds upstream auth.
func (p *Proxy) headers(ctx context.Context, c *connector.Connector, user string) (map[string]string, error) {
	values := map[string]string{}
	if len(c.Placeholders()) > 0 {
		v, err := p.creds.Get(ctx, user, c.Slug)
		if err != nil {
			return nil, fmt.Errorf("load credentials: %w", err)
		}
		values = v
	}
	h, err := c.ExpandHeaders(values)
	if err != nil {
		return nil, mcp.NewError(mcp.CodeMissingCredential, err.Error())
	}
	if c.Auth.Kind == connector.AuthBearer {
		h["Authorization"] = "Bearer " + c.Auth.Token
	}
	if p.upstreamOAuth(c, h) {
		if err := p.authorize(ctx, c, user, h); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// authorize sets h's Authorization to user's upstream OAuth token at c
// (left as it is when the service has none to give).
func (p *Proxy) authorize(ctx context.Context, c *connector.Connector, user string, h map[string]string) error {
	v, err := p.opts.UpstreamAuth.Authorization(ctx, c, user)
	if err != nil {
		return err
	}
	if v != "" {
		h["Authorization"] = v
	}
	return nil
}

func (p *Proxy) client(slug string) *http.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.clients[slug]; c != nil {
		return c
	}
	c := streamhttp.NewClient()
	if !p.opts.AllowPrivateNetworks {
		c.Transport.(*http.Transport).DialContext = p.guarded().DialContext
	}
	p.clients[slug] = c
	return c
}

// fastClient returns the connector's fasthttp pool for calls.
func (p *Proxy) fastClient(slug string) *fasthttp.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.fast[slug]; c != nil {
		return c
	}
	var dial func(ctx context.Context, network, addr string) (net.Conn, error)
	if !p.opts.AllowPrivateNetworks {
		dial = p.guarded().DialContext
	}
	c := streamhttp.NewFastClient(dial)
	p.fast[slug] = c
	return c
}

// guarded is the dialer refusing private addresses but for the run-time
// exceptions.
func (p *Proxy) guarded() *netguard.Exceptions {
	if p.opts.PrivateExceptions != nil {
		return p.opts.PrivateExceptions
	}
	return &netguard.Exceptions{}
}

func secretValues(c *connector.Connector) []string {
	out := make([]string, 0, len(c.Env)+len(c.Headers)+1)
	for _, v := range c.Env {
		out = append(out, v)
	}
	for _, v := range c.Headers {
		out = append(out, v)
	}
	if c.Auth.Token != "" {
		out = append(out, c.Auth.Token)
	}
	return out
}

func newSessionID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}
