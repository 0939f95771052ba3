package server

import (
	"net/url"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// originPolicy implements the Streamable HTTP DNS-rebinding protection: a
// request that carries an Origin must come from a loopback origin, the
// gateway's public origin or one an admin allowed. The Host header is not
// trusted: under DNS rebinding the attacker's page and Host agree.
// Requests without Origin (non-browser clients) pass.
type originPolicy struct {
	allowed map[string]bool
}

func newOriginPolicy(extra []string) originPolicy {
	p := originPolicy{allowed: make(map[string]bool, len(extra))}
	for _, o := range extra {
		if u, err := url.Parse(strings.ToLower(strings.TrimSpace(o))); err == nil && u.Host != "" {
			p.allowed[u.Scheme+"://"+u.Host] = true
		}
	}
	return p
}

// check reports whether a browser at origin may call the gateway.
func (p originPolicy) check(origin string) bool {
	if origin == "" {
		return true
	}
	u, err := url.Parse(strings.ToLower(origin))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return false
	}
	if p.allowed[u.Scheme+"://"+u.Host] {
		return true
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// admitMCP is the prologue of every MCP transport (Streamable HTTP and
// legacy SSE): the Origin check against DNS rebinding, then the caller's
// credentials. It has answered the client when ok is false.
func (s *Server) admitMCP(ctx *fasthttp.RequestCtx) (p auth.Principal, ok bool) {
	if !s.origin.check(string(ctx.Request.Header.Peek("Origin"))) {
		writeRPCError(ctx, fasthttp.StatusForbidden, nil, mcp.NewError(mcp.CodeInvalidRequest, "forbidden: the Origin header is not allowed (DNS-rebinding protection); an admin can allow it in http.allowed_origins"))
		return auth.Principal{}, false
	}
	return s.authenticate(ctx, true)
}
