package admin

import (
	"encoding/json"
	"errors"
	"slices"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// userView is a user as the API shows it, with the roles bound to them.
type userView struct {
	*auth.User
	Roles []string `json:"roles"`
}

func (a *API) userView(u *auth.User) userView {
	roles := a.Authz.DirectRoles(u.ID)
	if roles == nil {
		roles = []string{}
	}
	return userView{User: u, Roles: roles}
}

func (a *API) routeUsers(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) {
	switch {
	case len(rest) == 0 && method == fasthttp.MethodGet:
		if a.allow(ctx, p, policy.ResUsers, policy.ActRead) {
			a.listUsers(ctx)
		}
	case len(rest) == 0 && method == fasthttp.MethodPost:
		if a.allow(ctx, p, policy.ResUsers, policy.ActWrite) {
			a.createUser(ctx, p)
		}
	case len(rest) == 1 && method == fasthttp.MethodGet:
		obj := policy.ResUsers
		if rest[0] == p.User {
			obj = policy.ResUsersSelf
		}
		if a.allow(ctx, p, obj, policy.ActRead) {
			a.getUser(ctx, rest[0])
		}
	case len(rest) == 1 && method == fasthttp.MethodPatch:
		if a.allow(ctx, p, policy.ResUsers, policy.ActWrite) {
			a.patchUser(ctx, p, rest[0])
		}
	case len(rest) == 1 && method == fasthttp.MethodDelete:
		if a.allow(ctx, p, policy.ResUsers, policy.ActWrite) {
			a.deleteUser(ctx, p, rest[0])
		}
	default:
		methodNotAllowed(ctx, method)
	}
}

func (a *API) listUsers(ctx *fasthttp.RequestCtx) {
	pg, ok := readPage(ctx)
	if !ok {
		return
	}
	list, err := a.Users.List(detach(ctx))
	if err != nil {
		a.internal(ctx, err)
		return
	}
	items, next := paginate(list, pg, func(u *auth.User) string { return u.ID })
	out := make([]userView, len(items))
	for i, u := range items {
		out[i] = a.userView(u)
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"users": out, "total": len(list), "next_cursor": next})
}

// checkRoles answers 422 when roles name an unknown role, and 403 when p
// grants or takes away a role p does not cover (escalation.go).
func (a *API) checkRoles(ctx *fasthttp.RequestCtx, p auth.Principal, roles, current []string) bool {
	if !a.knownRoles(ctx, roles, "roles") {
		return false
	}
	return a.mayGrant(ctx, p, symmetricDifference(roles, current), "roles")
}

// symmetricDifference is what is in exactly one of a and b, sorted.
func symmetricDifference(a, b []string) []string {
	var out []string
	for _, r := range a {
		if !slices.Contains(b, r) {
			out = append(out, r)
		}
	}
	for _, r := range b {
		if !slices.Contains(a, r) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// knownRoles answers 422 naming field when roles name an unknown role.
func (a *API) knownRoles(ctx *fasthttp.RequestCtx, roles []string, field string) bool {
	known := a.Authz.KnownRoles()
	for _, r := range roles {
		if !slices.Contains(known, r) {
			writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "unknown role \""+r+"\"; known roles: "+joinComma(known), field)
			return false
		}
	}
	return true
}

// grantsOwner reports whether holding roles makes one an owner: the owner
// role itself, or a role inheriting it, directly or not.
func (a *API) grantsOwner(roles []string) bool {
	seen := map[string]bool{}
	queue := slices.Clone(roles)
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		if r == auth.RoleOwner {
			return true
		}
		if !seen[r] {
			seen[r] = true
			queue = append(queue, a.Authz.Inherits(r)...)
		}
	}
	return false
}

func (a *API) createUser(ctx *fasthttp.RequestCtx, p auth.Principal) {
	var body struct {
		ID       string   `json:"id"`
		Name     string   `json:"name"`
		Email    string   `json:"email"`
		Roles    []string `json:"roles"`
		Disabled bool     `json:"disabled"`
	}
	if err := decodeStrict(ctx.PostBody(), &body); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	if !auth.ValidUserID(body.ID) {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field",
			"id must be 1-64 lowercase letters, digits, '.', '_', '-' or '@', starting with a letter or digit", "id")
		return
	}
	if body.Roles == nil {
		body.Roles = []string{auth.RoleMember}
	}
	if !a.checkRoles(ctx, p, body.Roles, nil) {
		return
	}
	u := &auth.User{ID: body.ID, Name: body.Name, Email: body.Email, Disabled: body.Disabled}
	if err := a.Users.Create(detach(ctx), u); err != nil {
		if errors.Is(err, a.Errs.Conflict) {
			writeError(ctx, fasthttp.StatusConflict, "conflict", "a user with id \""+body.ID+"\" already exists", "id")
			return
		}
		a.internal(ctx, err)
		return
	}
	if err := a.Authz.SetRoles(u.ID, body.Roles); err != nil {
		// Undo: a user without their roles would be half-written.
		_ = a.Users.Delete(detach(ctx), u.ID)
		a.internal(ctx, err)
		return
	}
	a.record(ctx, p, "user.create", u.ID, map[string]any{"roles": body.Roles})
	ctx.Response.Header.Set("ETag", etag(u.Version))
	ctx.Response.Header.Set("Location", "/admin/v1/users/"+u.ID)
	writeJSON(ctx, fasthttp.StatusCreated, a.userView(u))
}

func (a *API) getUser(ctx *fasthttp.RequestCtx, id string) {
	u, err := a.Users.Get(detach(ctx), id)
	if err != nil {
		a.notFoundOr(ctx, err, "user \""+id+"\" not found")
		return
	}
	ctx.Response.Header.Set("ETag", etag(u.Version))
	writeJSON(ctx, fasthttp.StatusOK, a.userView(u))
}

// notFoundOr answers 404 with msg when err is the store's not-found, else 500.
func (a *API) notFoundOr(ctx *fasthttp.RequestCtx, err error, msg string) {
	if errors.Is(err, a.Errs.NotFound) {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", msg, "")
		return
	}
	a.internal(ctx, err)
}

func (a *API) patchUser(ctx *fasthttp.RequestCtx, p auth.Principal, id string) {
	var raw map[string]json.RawMessage
	if err := decodeStrict(ctx.PostBody(), &raw); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), "")
		return
	}
	var body struct {
		Name     *string   `json:"name"`
		Email    *string   `json:"email"`
		Roles    *[]string `json:"roles"`
		Disabled *bool     `json:"disabled"`
		Version  int64     `json:"version"`
	}
	if err := decodeStrict(ctx.PostBody(), &body); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	expected, err := expectedVersion(ctx, raw)
	if err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_field", err.Error(), "version")
		return
	}
	if _, err := a.Users.Get(detach(ctx), id); err != nil {
		a.notFoundOr(ctx, err, "user \""+id+"\" not found")
		return
	}
	if !a.mayActOn(ctx, p, id) {
		return
	}
	if body.Roles != nil && !a.checkRoles(ctx, p, *body.Roles, a.Authz.DirectRoles(id)) {
		return
	}
	if id == p.User && body.Disabled != nil && *body.Disabled {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "you cannot disable yourself", "disabled")
		return
	}
	u, err := a.Users.Update(detach(ctx), id, expected, func(u *auth.User) error {
		if body.Name != nil {
			u.Name = *body.Name
		}
		if body.Email != nil {
			u.Email = *body.Email
		}
		if body.Disabled != nil {
			u.Disabled = *body.Disabled
		}
		return nil
	})
	switch {
	case errors.Is(err, a.Errs.VersionMismatch):
		writeError(ctx, fasthttp.StatusPreconditionFailed, "version_mismatch", "the user changed since you read it; GET it again and retry", "version")
		return
	case err != nil:
		a.notFoundOr(ctx, err, "user \""+id+"\" not found")
		return
	}
	details := map[string]any{}
	if body.Roles != nil {
		if err := a.Authz.SetRoles(id, *body.Roles); err != nil {
			a.internal(ctx, err)
			return
		}
		details["roles"] = *body.Roles
	}
	if body.Disabled != nil {
		details["disabled"] = *body.Disabled
	}
	a.record(ctx, p, "user.update", id, details)
	ctx.Response.Header.Set("ETag", etag(u.Version))
	writeJSON(ctx, fasthttp.StatusOK, a.userView(u))
}

func (a *API) deleteUser(ctx *fasthttp.RequestCtx, p auth.Principal, id string) {
	if id == p.User {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "you cannot delete yourself", "id")
		return
	}
	if !a.mayActOn(ctx, p, id) {
		return
	}
	if err := a.Users.Delete(detach(ctx), id); err != nil {
		a.notFoundOr(ctx, err, "user \""+id+"\" not found")
		return
	}
	if err := a.Authz.ForgetUser(id); err != nil {
		a.internal(ctx, err)
		return
	}
	a.record(ctx, p, "user.delete", id, a.forgetConnections(ctx, nil, id))
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

func (a *API) routeMe(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) {
	if len(rest) != 0 || method != fasthttp.MethodGet {
		methodNotAllowed(ctx, method)
		return
	}
	roles := p.Roles
	if roles == nil {
		roles = []string{}
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"user": p.User, "roles": roles, "token_id": p.TokenID})
}

func joinComma(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ", "
		}
		out += v
	}
	return out
}
