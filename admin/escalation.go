package admin

import (
	"slices"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
)

// No one grants or acts with more than they have. An actor covers a role
// when they hold it (directly, through a group or by inheritance), when
// they are an owner, or, for admins, when the role does not make its
// holders owners (admins hold every admin API permission except the
// owner's). A non-owner may grant or take away only roles they cover, and
// may change, disable, delete, or create and revoke tokens for only users
// whose every role they cover. docs/security.md states the trust model.

// covers reports whether p covers role.
func (a *API) covers(p auth.Principal, role string) bool {
	held := a.heldBy(p)
	switch {
	case slices.Contains(held, auth.RoleOwner), slices.Contains(held, role):
		return true
	case slices.Contains(held, auth.RoleAdmin):
		return !a.grantsOwner([]string{role})
	default:
		return false
	}
}

// heldBy is every role p holds: the principal's own (anonymous clients'
// configured roles) and what the role graph gives its user.
func (a *API) heldBy(p auth.Principal) []string {
	held := slices.Clone(p.Roles)
	if p.User != "" {
		held = append(held, a.Authz.Roles(p.User)...)
	}
	return held
}

// uncovered returns the first of roles p does not cover, if any.
func (a *API) uncovered(p auth.Principal, roles []string) (string, bool) {
	for _, r := range roles {
		if !a.covers(p, r) {
			return r, true
		}
	}
	return "", false
}

// mayGrant answers 403 naming field when roles holds a role p does not
// cover: granting it, or taking it away, would be acting with more than p
// has.
func (a *API) mayGrant(ctx *fasthttp.RequestCtx, p auth.Principal, roles []string, field string) bool {
	r, bad := a.uncovered(p, roles)
	if !bad {
		return true
	}
	writeError(ctx, fasthttp.StatusForbidden, "forbidden", "you may not grant or remove role \""+r+"\": you do not hold it"+ownerHint(r), field)
	return false
}

// mayActOn answers 403 when user holds a role p does not cover: p may not
// change, disable or delete them, nor create or revoke their tokens. Users
// act on themselves freely (they hold what they hold).
func (a *API) mayActOn(ctx *fasthttp.RequestCtx, p auth.Principal, user string) bool {
	if user == p.User {
		return true
	}
	r, bad := a.uncovered(p, a.Authz.Roles(user))
	if !bad {
		return true
	}
	writeError(ctx, fasthttp.StatusForbidden, "forbidden", "you may not act on user \""+user+"\": they hold role \""+r+"\", which you do not"+ownerHint(r), "")
	return false
}

// ownerHint says who may, for a role only owners cover.
func ownerHint(role string) string {
	if role == auth.RoleOwner {
		return " (only an owner may)"
	}
	return ""
}
