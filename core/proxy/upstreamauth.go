package proxy

import (
	"context"
	"net/http"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// UpstreamAuth supplies the Authorization header of a user's requests to
// a connector (core/upstreamauth.Service implements it): "" when the
// connector's upstream needs none; an *mcp.Error naming a connect link
// when the user has not connected.
type UpstreamAuth interface {
	Authorization(ctx context.Context, c *connector.Connector, user string) (string, error)
	// Challenged turns the upstream's 401 or 403 (with its
	// WWW-Authenticate values) to user's request into the client's error:
	// connect again, for the scope the upstream asks; nil when it is not
	// an OAuth matter.
	Challenged(ctx context.Context, c *connector.Connector, user string, status int, wwwAuthenticate []string) error
}

// hasAuthorization reports whether the connector's own headers already
// authenticate (an auto connector with an API key header is not probed).
func hasAuthorization(h map[string]string) bool {
	for k := range h {
		if http.CanonicalHeaderKey(k) == "Authorization" {
			return true
		}
	}
	return false
}

// upstreamOAuth reports whether c's requests may carry a user's upstream
// OAuth token: kind oauth2, or auto when the connector's own headers h
// do not already authenticate.
func (p *Proxy) upstreamOAuth(c *connector.Connector, h map[string]string) bool {
	return p.opts.UpstreamAuth != nil && (c.Auth.Kind == connector.AuthOAuth2 || c.Auth.Kind == connector.AuthAuto && !hasAuthorization(h))
}

// IdentityForward supplies the headers that tell c's upstream who user
// is (core/identity.Forwarder implements it): nil when c forwards none.
type IdentityForward interface {
	Headers(ctx context.Context, c *connector.Connector, user string) (map[string]string, error)
}

// UpstreamDecorator asks the auth plugin a connector names (auth kind
// plugin) for the credential headers of user's request (plugins/host.Host
// implements it); its errors read as −31063 naming the plugin.
type UpstreamDecorator interface {
	Decorate(ctx context.Context, plugin string, c *connector.Connector, user string) (map[string]string, error)
}

// perRequest returns the headers user's requests to c take anew each
// time, or nil when there are none (the hot path then does no work): the
// user's upstream OAuth token, which a session opened before it expired
// keeps using after the refresh (docs/upstream-auth.md), and the
// forwarded identity, whose JWT is short-lived (docs/identity-forward.md).
func (p *Proxy) perRequest(c *connector.Connector, user string) func(context.Context) (map[string]string, error) {
	if c.Transport == connector.TransportSTDIO {
		return nil
	}
	oauth := p.upstreamOAuth(c, c.Headers)
	ident := p.opts.Identity != nil && c.Advanced.Identity.Mode != ""
	plugin := c.Auth.Kind == connector.AuthPlugin
	if !oauth && !ident && !plugin {
		return nil
	}
	return func(ctx context.Context) (map[string]string, error) {
		h := map[string]string{}
		if plugin {
			if p.opts.Decorator == nil {
				return nil, mcp.Errorf(mcp.CodePluginFailed, "connector %q takes its credentials from auth plugin %q, and no auth plugins are loaded", c.Slug, c.Auth.Plugin)
			}
			d, err := p.opts.Decorator.Decorate(ctx, c.Auth.Plugin, c, user)
			if err != nil {
				return nil, err
			}
			for k, v := range d {
				h[k] = v
			}
		}
		if ident {
			id, err := p.opts.Identity.Headers(ctx, c, user)
			if err != nil {
				return nil, err
			}
			for k, v := range id {
				h[k] = v
			}
		}
		if oauth {
			if err := p.authorize(ctx, c, user, h); err != nil {
				return nil, err
			}
		}
		return h, nil
	}
}

// onAuthFailure returns the hook that turns user's upstream 401s and 403s
// at c into "connect again" (nil when c has no upstream OAuth).
func (p *Proxy) onAuthFailure(c *connector.Connector, user string) func(context.Context, int, []string) error {
	if c.Transport != connector.TransportStreamableHTTP || !p.upstreamOAuth(c, c.Headers) {
		return nil
	}
	return func(ctx context.Context, status int, wwwAuthenticate []string) error {
		return p.opts.UpstreamAuth.Challenged(ctx, c, user, status, wwwAuthenticate)
	}
}
