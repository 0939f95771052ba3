package admin

import (
	"context"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/identity"
)

// IdentityKeys is the ring that signs forwarded identity JWTs
// (*keys.Ring of purpose identity-forward).
type IdentityKeys interface {
	Rotate(ctx context.Context) error
	CurrentKeyID() string
}

// routeIdentityForward serves POST /identity-forward/keys/rotate: a new
// signing key now; the previous one keeps verifying (and stays in the
// JWKS) for its window. Owners only, like settings: every upstream that
// trusts the gateway's identity follows the key. Audited as
// identity.keys.rotate.
func (a *API) routeIdentityForward(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) {
	if a.IdentityKeys == nil || len(rest) != 2 || rest[0] != "keys" || rest[1] != "rotate" {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "no such admin endpoint", "")
		return
	}
	if method != fasthttp.MethodPost {
		methodNotAllowed(ctx, method)
		return
	}
	if !a.maySetSettings(p) {
		writeError(ctx, fasthttp.StatusForbidden, "forbidden", "only an owner may rotate the identity-forward signing key: every upstream that verifies forwarded identities follows it", "")
		return
	}
	prev := a.IdentityKeys.CurrentKeyID()
	if err := a.IdentityKeys.Rotate(detach(ctx)); err != nil {
		a.internal(ctx, err)
		return
	}
	kid := a.IdentityKeys.CurrentKeyID()
	a.record(ctx, p, "identity.keys.rotate", identity.Purpose, map[string]any{"kid": kid, "previous_kid": prev})
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"kid": kid, "previous_kid": prev, "jwks_url": a.PublicURL + identity.JWKSPath})
}
