package admin

import (
	"context"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// UpstreamConnections are users' connections to OAuth-protected
// upstreams (core/upstreamauth.Service implements it).
type UpstreamConnections interface {
	ConnectLink(c *connector.Connector, user string) (string, time.Time)
	Disconnect(ctx context.Context, c *connector.Connector, user string) (bool, error)
	ForgetConnector(ctx context.Context, c *connector.Connector) (int, error)
	ForgetUser(ctx context.Context, user string) (int, error)
}

// routeConnection serves POST /connectors/{slug}/connect (a connect link
// for the caller) and DELETE /connectors/{slug}/connection (the caller's
// upstream token revoked and forgotten). It reports whether it served.
func (a *API) routeConnection(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) bool {
	if len(rest) != 2 {
		return false
	}
	switch {
	case rest[1] == "connect" && method == fasthttp.MethodPost:
	case rest[1] == "connection" && method == fasthttp.MethodDelete:
	default:
		return false
	}
	if a.UpstreamAuth == nil {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "upstream OAuth is not enabled on this gateway", "")
		return true
	}
	if !a.allow(ctx, p, policy.ResCredentials, policy.ActWrite) {
		return true
	}
	c, ok := a.load(ctx, p, rest[0])
	if !ok {
		return true
	}
	if c.Transport == connector.TransportSTDIO || (c.Auth.Kind != connector.AuthOAuth2 && c.Auth.Kind != connector.AuthAuto) {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "connector \""+c.Slug+"\" does not sign users in with OAuth (auth kind "+string(c.Auth.Kind)+")", "auth.kind")
		return true
	}
	if method == fasthttp.MethodPost {
		link, expires := a.UpstreamAuth.ConnectLink(c, p.User)
		a.record(ctx, p, "connector.connect.link", c.Slug, nil)
		writeJSON(ctx, fasthttp.StatusOK, map[string]any{"connector": c.Slug, "connect_url": link, "expires_at": expires.UTC()})
		return true
	}
	had, err := a.UpstreamAuth.Disconnect(detach(ctx), c, p.User)
	if err != nil {
		a.internal(ctx, err)
		return true
	}
	a.record(ctx, p, "connector.disconnect", c.Slug, map[string]any{"had_token": had})
	ctx.SetStatusCode(fasthttp.StatusNoContent)
	return true
}

// forgetConnections revokes the upstream tokens a removed connector or
// user held; failures are logged: the removal itself has happened.
func (a *API) forgetConnections(ctx *fasthttp.RequestCtx, c *connector.Connector, user string) map[string]any {
	if a.UpstreamAuth == nil {
		return nil
	}
	var n int
	var err error
	if c != nil {
		n, err = a.UpstreamAuth.ForgetConnector(detach(ctx), c)
	} else {
		n, err = a.UpstreamAuth.ForgetUser(detach(ctx), user)
	}
	if err != nil {
		a.Log.Error().Err(err).Msg("revoking upstream tokens")
	}
	if n == 0 {
		return nil
	}
	return map[string]any{"upstream_tokens_revoked": n}
}
