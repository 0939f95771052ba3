package admin

import (
	"errors"
	"slices"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// routeRoles serves /roles: the known roles, custom ones defined and
// deleted here, and what each inherits.
//
//	GET    /roles
//	POST   /roles {"name": "...", "inherits": [...]}
//	GET    /roles/{role}
//	PUT    /roles/{role} {"inherits": [...]}
//	DELETE /roles/{role}
func (a *API) routeRoles(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) {
	switch {
	case len(rest) == 0 && method == fasthttp.MethodGet:
		if a.allow(ctx, p, policy.ResUsers, policy.ActRead) {
			writeJSON(ctx, fasthttp.StatusOK, map[string]any{"roles": a.Authz.KnownRoles()})
		}
	case len(rest) == 0 && method == fasthttp.MethodPost:
		if a.allow(ctx, p, policy.ResUsers, policy.ActWrite) {
			a.createRole(ctx, p)
		}
	case len(rest) == 1 && method == fasthttp.MethodGet:
		if a.allow(ctx, p, policy.ResUsers, policy.ActRead) && a.knownRole(ctx, rest[0]) {
			a.writeRole(ctx, rest[0])
		}
	case len(rest) == 1 && method == fasthttp.MethodPut:
		if a.allow(ctx, p, policy.ResUsers, policy.ActWrite) && a.knownRole(ctx, rest[0]) {
			a.putInherits(ctx, p, rest[0])
		}
	case len(rest) == 1 && method == fasthttp.MethodDelete:
		if a.allow(ctx, p, policy.ResUsers, policy.ActWrite) && a.knownRole(ctx, rest[0]) {
			a.deleteRole(ctx, p, rest[0])
		}
	default:
		methodNotAllowed(ctx, method)
	}
}

// knownRole answers 404 when no rule mentions role.
func (a *API) knownRole(ctx *fasthttp.RequestCtx, role string) bool {
	if slices.Contains(a.Authz.KnownRoles(), role) {
		return true
	}
	writeError(ctx, fasthttp.StatusNotFound, "not_found", "no role \""+role+"\"", "")
	return false
}

func (a *API) writeRole(ctx *fasthttp.RequestCtx, role string) {
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"role": role, "inherits": a.Authz.Inherits(role)})
}

// putInherits makes the body's roles exactly those role inherits. Only an
// owner may make a role inherit the owner role (its holders would become
// owners), take that away, or change what the owner role inherits.
func (a *API) putInherits(ctx *fasthttp.RequestCtx, p auth.Principal, role string) {
	var body struct {
		Inherits []string `json:"inherits"`
	}
	if err := decodeStrict(ctx.PostBody(), &body); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	parents := slices.Compact(slices.Sorted(slices.Values(body.Inherits)))
	if !a.mayInherit(ctx, p, role, parents) {
		return
	}
	err := a.Authz.SetInherits(role, parents)
	switch {
	case errors.Is(err, policy.ErrUnknownRole), errors.Is(err, policy.ErrRoleCycle):
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", err.Error(), "inherits")
		return
	case err != nil:
		a.internal(ctx, err)
		return
	}
	a.record(ctx, p, "role.inherit", role, map[string]any{"inherits": parents})
	a.writeRole(ctx, role)
}

// mayInherit answers 422 when parents name an unknown role, and 403 when
// p does not cover role (changing what it inherits changes its holders),
// or adds or takes away a parent p does not cover (its holders would gain
// or lose what p does not have).
func (a *API) mayInherit(ctx *fasthttp.RequestCtx, p auth.Principal, role string, parents []string) bool {
	if !a.knownRoles(ctx, parents, "inherits") {
		return false
	}
	current := a.Authz.Inherits(role)
	if !slices.Contains(a.Authz.KnownRoles(), role) {
		current = nil // a role being created
	} else if !a.mayGrant(ctx, p, []string{role}, "inherits") {
		return false
	}
	return a.mayGrant(ctx, p, symmetricDifference(parents, current), "inherits")
}

// createRole defines a custom role and what it inherits. The role grants
// nothing in the admin API by itself: tool rules name it, and its holders
// hold what it inherits.
func (a *API) createRole(ctx *fasthttp.RequestCtx, p auth.Principal) {
	var body struct {
		Name     string   `json:"name"`
		Inherits []string `json:"inherits"`
	}
	if err := decodeStrict(ctx.PostBody(), &body); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	if !policy.ValidRoleName(body.Name) {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field",
			"a role name is 1-64 letters, digits, '.', '_', '-' or '@', starting with a letter or digit", "name")
		return
	}
	if slices.Contains(a.Authz.KnownRoles(), body.Name) {
		roleConflict(ctx, body.Name)
		return
	}
	parents := slices.Compact(slices.Sorted(slices.Values(body.Inherits)))
	if slices.Contains(parents, body.Name) {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "a role cannot inherit itself", "inherits")
		return
	}
	if !a.mayInherit(ctx, p, body.Name, parents) {
		return
	}
	switch err := a.Authz.DefineRole(body.Name); {
	case errors.Is(err, policy.ErrRoleExists): // created meanwhile
		roleConflict(ctx, body.Name)
		return
	case errors.Is(err, policy.ErrRoleName):
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", err.Error(), "name")
		return
	case err != nil:
		a.internal(ctx, err)
		return
	}
	if err := a.setNewRoleInherits(body.Name, parents); err != nil {
		// Undo: a role without the parents asked for would be half-made.
		_ = a.Authz.DeleteRole(body.Name)
		if errors.Is(err, policy.ErrUnknownRole) || errors.Is(err, policy.ErrRoleCycle) {
			writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", err.Error(), "inherits")
			return
		}
		a.internal(ctx, err)
		return
	}
	a.record(ctx, p, "role.create", body.Name, map[string]any{"inherits": parents})
	ctx.Response.Header.Set("Location", "/admin/v1/roles/"+body.Name)
	writeJSON(ctx, fasthttp.StatusCreated, map[string]any{"role": body.Name, "inherits": a.Authz.Inherits(body.Name)})
}

// roleConflict answers 409: a role named name is known already.
func roleConflict(ctx *fasthttp.RequestCtx, name string) {
	writeError(ctx, fasthttp.StatusConflict, "conflict", "a role named \""+name+"\" already exists", "name")
}

// setNewRoleInherits sets what a role just defined inherits, if anything.
func (a *API) setNewRoleInherits(role string, parents []string) error {
	if len(parents) == 0 {
		return nil
	}
	return a.Authz.SetInherits(role, parents)
}

// deleteRole removes a custom role with its bindings and inheritance.
// Built-in roles stay (409 builtin, for owners too); only an owner may
// delete a role inheriting owner (its holders are owners).
func (a *API) deleteRole(ctx *fasthttp.RequestCtx, p auth.Principal, role string) {
	if !slices.Contains(auth.BuiltinRoles(), role) && !a.mayGrant(ctx, p, []string{role}, "") {
		return
	}
	inherits := a.Authz.Inherits(role)
	switch err := a.Authz.DeleteRole(role); {
	case errors.Is(err, policy.ErrUnknownRole):
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "no role \""+role+"\"", "")
		return
	case errors.Is(err, policy.ErrBuiltinRole):
		writeError(ctx, fasthttp.StatusConflict, "builtin", "built-in roles ship with Gatehouse and cannot be deleted", "")
		return
	case err != nil:
		a.internal(ctx, err)
		return
	}
	a.record(ctx, p, "role.delete", role, map[string]any{"inherits": inherits})
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}
