package proxy

import (
	"context"
	"net/http"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
)

// UpstreamAuth supplies the Authorization header of a user's requests to
// a connector (core/upstreamauth.Service implements it): "" when the
// connector's upstream needs none; an *mcp.Error naming a connect link
// when the user has not connected.
type UpstreamAuth interface {
	Authorization(ctx context.Context, c *connector.Connector, user string) (string, error)
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
	if !oauth && !ident {
		return nil
	}
	return func(ctx context.Context) (map[string]string, error) {
		h := map[string]string{}
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
			v, err := p.opts.UpstreamAuth.Authorization(ctx, c, user)
			if err != nil {
				return nil, err
			}
			if v != "" {
				h["Authorization"] = v
			}
		}
		return h, nil
	}
}
