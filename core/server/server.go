// Package server is the client-facing listener: it routes HTTP requests on
// fasthttp to the MCP transports, the admin API and the health endpoint.
// It holds no business logic: sessions and upstreams live in core/proxy.
package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/identity"
	"github.com/gatehouse-mcp/gatehouse/core/proxy"
)

// Authenticator turns a request's Authorization header into the caller
// (core/auth's API tokens implement it; OAuth access tokens and auth
// plugins are further providers behind the same seam). Anonymous callers
// pass only where allowAnonymous.
type Authenticator interface {
	Authenticate(ctx context.Context, authorization []byte, allowAnonymous bool) (auth.Principal, error)
}

// Challenger is implemented by an Authenticator that says how to
// authenticate: the WWW-Authenticate value of a 401 on path (an OAuth
// provider names its RFC 9728 resource metadata there).
type Challenger interface {
	Challenge(path string) string
}

// AdminHandler serves /admin/v1; the admin package implements it.
type AdminHandler interface {
	ServeAdmin(ctx *fasthttp.RequestCtx, principal auth.Principal)
}

// Options configure the server.
type Options struct {
	// Version is the gateway's build version, shown by /healthz and
	// /readyz.
	Version string
	// MaxBodyBytes bounds an MCP request body.
	MaxBodyBytes int
	// MaxGuardUploadBytes bounds a guard module upload (POST
	// /admin/v1/guards; default DefaultMaxGuardUpload): guards built with
	// Go's SDK are megabytes, far above the admin API's other documents.
	MaxGuardUploadBytes int
	AllowedOrigins      []string
	// Metrics serves GET /metrics to callers MayReadMetrics admits (a
	// bearer token is required: metric labels name connectors and tools).
	Metrics        fasthttp.RequestHandler
	MayReadMetrics func(auth.Principal) bool
	// OpenAPI is the admin API's OpenAPI document, served without
	// authentication at /admin/v1/openapi.json.
	OpenAPI []byte
	// Connect serves the upstream OAuth connect flow under /connect/
	// (browser pages: the link's ticket and the flow's state are the
	// credentials, not a bearer token); nil disables it.
	Connect fasthttp.RequestHandler
	// OAuth serves the OAuth authorization server and the resource
	// metadata (/.well-known/…, /oauth/…; core/auth/oauth); nil: 404.
	OAuth fasthttp.RequestHandler
	// IdentityJWKS serves the public keys of forwarded identity JWTs at
	// identity.JWKSPath, unauthenticated (core/identity); nil: 404.
	IdentityJWKS fasthttp.RequestHandler
}

// maxAdminBody bounds an admin API request body: connectors, templates and
// requests are small documents, far below the MCP body limit. Guard
// uploads have their own limit.
const maxAdminBody = 1 << 20

// DefaultMaxGuardUpload is the guard upload limit when none is set (the
// built-in guards, built with Go's SDK, are about 6 MiB).
const DefaultMaxGuardUpload = 32 << 20

// guardUploadPath is where guard modules are uploaded (POST).
const guardUploadPath = "/admin/v1/guards"

// bodyLimit is the body limit of a request to path with method: read from
// its headers, so fasthttp refuses a larger body before buffering it.
func (o *Options) bodyLimit(method, path []byte) int {
	switch {
	case string(path) == guardUploadPath && string(method) == fasthttp.MethodPost:
		if o.MaxGuardUploadBytes > 0 {
			return o.MaxGuardUploadBytes
		}
		return DefaultMaxGuardUpload
	case bytes.HasPrefix(path, []byte("/admin/")):
		return maxAdminBody
	default:
		return o.MaxBodyBytes
	}
}

// Server routes requests.
type Server struct {
	proxy      *proxy.Proxy
	auth       Authenticator
	admin      AdminHandler
	opts       Options
	log        zerolog.Logger
	origin     originPolicy
	replays    *replays
	sseClients sseClients
	srv        *fasthttp.Server
	// base is the context of the work handlers hand to the proxy: never
	// the *fasthttp.RequestCtx itself, which fasthttp recycles once the
	// handler returns while upstream calls, held calls and streams may
	// still use their context. Shutdown cancels it.
	base context.Context
	stop context.CancelFunc
	// draining is set once Drain began: /readyz answers 503.
	draining atomic.Bool
	// drainDone ends Drain's listener shutdown, which holds fasthttp's
	// lock until the connections are idle; drained says it returned.
	drainDone context.CancelFunc
	drained   chan struct{}
}

// New builds a server; Serve starts it.
func New(p *proxy.Proxy, a Authenticator, admin AdminHandler, opts Options, log zerolog.Logger) *Server {
	s := &Server{proxy: p, auth: a, admin: admin, opts: opts, log: log, origin: newOriginPolicy(opts.AllowedOrigins), replays: newReplays()}
	s.base, s.stop = context.WithCancel(context.Background())
	s.srv = &fasthttp.Server{
		Handler:            s.route,
		Name:               "gatehouse",
		MaxRequestBodySize: opts.MaxBodyBytes,
		HeaderReceived: func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
			// The raw request target: the large guard limit applies only
			// when it is exactly the upload path (a non-canonical form gets
			// the smaller admin limit, never the other way round).
			path, _, _ := bytes.Cut(h.RequestURI(), []byte("?"))
			return fasthttp.RequestConfig{MaxRequestBodySize: opts.bodyLimit(h.Method(), path)}
		},
		ReadTimeout:                   60 * time.Second,
		IdleTimeout:                   120 * time.Second,
		NoDefaultServerHeader:         false,
		DisableHeaderNamesNormalizing: false,
		StreamRequestBody:             false,
		Logger:                        fasthttpLogger{log},
		ErrorHandler: func(ctx *fasthttp.RequestCtx, err error) {
			status := fasthttp.StatusBadRequest
			if errors.Is(err, fasthttp.ErrBodyTooLarge) {
				status = fasthttp.StatusRequestEntityTooLarge
			}
			if bytes.HasPrefix(ctx.Path(), []byte("/admin/")) {
				// The admin API's own error shape, not JSON-RPC.
				code, msg := "invalid_request", "malformed HTTP request"
				if status == fasthttp.StatusRequestEntityTooLarge {
					code, msg = "too_large", fmt.Sprintf("the request body exceeds %d bytes", opts.bodyLimit(ctx.Method(), ctx.Path()))
				}
				ctx.SetStatusCode(status)
				ctx.SetContentType("application/json")
				ctx.SetBodyString(fmt.Sprintf(`{"error":{"code":%q,"message":%q}}`, code, msg))
				return
			}
			writeRPCError(ctx, status, nil, parseErrorFor(err, opts.MaxBodyBytes))
		},
	}
	return s
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.srv.Serve(ln) }

// Drain stops taking new work without touching the work in flight:
// /readyz answers 503, the listeners close, and idle keep-alive
// connections end. It returns at once; Shutdown then ends what remains.
func (s *Server) Drain() {
	if s.draining.Swap(true) {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.drainDone, s.drained = cancel, make(chan struct{})
	go func() {
		defer close(s.drained)
		// Returns when every connection is idle, or when Shutdown ends it.
		_ = s.srv.ShutdownWithContext(ctx)
	}()
}

// Shutdown stops accepting, cancels the work still running and waits for
// handlers, bounded by ctx. Drain first to let calls in flight finish.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.draining.Swap(true) && s.drainDone != nil {
		s.drainDone()
		<-s.drained
	}
	s.stop()
	return s.srv.ShutdownWithContext(ctx)
}

func (s *Server) route(ctx *fasthttp.RequestCtx) {
	path := string(ctx.Path())
	switch {
	case path == "/healthz":
		// Liveness: the process serves requests.
		ctx.SetContentType("application/json")
		ctx.SetBodyString(fmt.Sprintf(`{"status":"ok","version":%q}`, s.opts.Version))
	case path == "/readyz":
		// Readiness: the gateway takes new work; not while it drains.
		ctx.SetContentType("application/json")
		if s.draining.Load() {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
			ctx.SetBodyString(fmt.Sprintf(`{"status":"draining","version":%q}`, s.opts.Version))
			return
		}
		ctx.SetBodyString(fmt.Sprintf(`{"status":"ready","version":%q}`, s.opts.Version))
	case path == "/mcp" || strings.HasPrefix(path, "/mcp/"):
		s.serveMCP(ctx, strings.TrimPrefix(strings.TrimPrefix(path, "/mcp"), "/"))
	case path == "/sse" || strings.HasPrefix(path, "/sse/"):
		s.serveLegacySSE(ctx, strings.TrimPrefix(strings.TrimPrefix(path, "/sse"), "/"))
	case path == "/metrics" && s.opts.Metrics != nil:
		principal, ok := s.authenticate(ctx, false)
		if !ok {
			return
		}
		if s.opts.MayReadMetrics == nil || !s.opts.MayReadMetrics(principal) {
			ctx.SetStatusCode(fasthttp.StatusForbidden)
			ctx.SetContentType("application/json")
			ctx.SetBodyString(`{"error":{"code":"forbidden","message":"reading metrics needs analytics read access (owner, admin or auditor)"}}`)
			return
		}
		s.opts.Metrics(ctx)
	case strings.HasPrefix(path, "/connect/") && s.opts.Connect != nil:
		s.opts.Connect(ctx)
	case path == identity.JWKSPath && s.opts.IdentityJWKS != nil:
		s.opts.IdentityJWKS(ctx)
	case s.opts.OAuth != nil && (strings.HasPrefix(path, "/.well-known/") || strings.HasPrefix(path, "/oauth/")):
		s.opts.OAuth(ctx)
	case path == "/admin/v1/openapi.json" && len(s.opts.OpenAPI) > 0:
		ctx.SetContentType("application/json")
		ctx.SetBody(s.opts.OpenAPI)
	case strings.HasPrefix(path, "/admin/"):
		principal, ok := s.authenticate(ctx, false)
		if !ok {
			return
		}
		if limit := s.opts.bodyLimit(ctx.Method(), ctx.Path()); len(ctx.Request.Body()) > limit {
			ctx.SetStatusCode(fasthttp.StatusRequestEntityTooLarge)
			ctx.SetContentType("application/json")
			ctx.SetBodyString(fmt.Sprintf(`{"error":{"code":"too_large","message":"the request body exceeds %d bytes"}}`, limit))
			return
		}
		if s.admin == nil {
			ctx.Error("admin API disabled", fasthttp.StatusNotFound)
			return
		}
		s.admin.ServeAdmin(ctx, principal)
	default:
		ctx.SetStatusCode(fasthttp.StatusNotFound)
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"error":{"code":"not_found","message":"no such endpoint; MCP clients use /mcp/{connector}"}}`)
	}
}

// authenticate resolves the caller or answers 401; anonymous callers pass
// only where allowAnonymous.
func (s *Server) authenticate(ctx *fasthttp.RequestCtx, allowAnonymous bool) (auth.Principal, bool) {
	p, err := s.auth.Authenticate(auth.WithRequestPath(s.base, string(ctx.Path())), ctx.Request.Header.Peek("Authorization"), allowAnonymous)
	if stepUp := (*auth.StepUpError)(nil); errors.As(err, &stepUp) {
		// RFC 6750 §3.1: a valid token without the scope needed.
		ctx.Response.Header.Set("WWW-Authenticate", stepUp.Challenge)
		ctx.SetStatusCode(fasthttp.StatusForbidden)
		ctx.SetContentType("application/json")
		ctx.SetBodyString(fmt.Sprintf(`{"error":{"code":"insufficient_scope","message":%q}}`, err.Error()+": authorize again with the scope the WWW-Authenticate header names"))
		return auth.Principal{}, false
	}
	if err != nil && authUnavailable(ctx, err) {
		return auth.Principal{}, false
	}
	if err != nil {
		challenge := `Bearer realm="gatehouse"`
		if c, ok := s.auth.(Challenger); ok {
			challenge = c.Challenge(string(ctx.Path()))
		}
		ctx.Response.Header.Set("WWW-Authenticate", challenge)
		ctx.SetStatusCode(fasthttp.StatusUnauthorized)
		ctx.SetContentType("application/json")
		ctx.SetBodyString(fmt.Sprintf(`{"error":{"code":"unauthorized","message":%q}}`, err.Error()+": send Authorization: Bearer <token>"))
		return auth.Principal{}, false
	}
	return p, true
}

type fasthttpLogger struct{ log zerolog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.log.Debug().Msgf(format, args...)
}
