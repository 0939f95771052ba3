package admin

import (
	"errors"
	"regexp"
	"slices"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// RoleGraph holds the bindings beyond a user's own roles: groups (users
// holding roles together), custom roles and role inheritance.
// core/policy.Admin implements it as part of Authorizer.
type RoleGraph interface {
	Groups() []policy.Group
	Group(name string) policy.Group
	SetGroup(name string, members, roles []string) error
	DeleteGroup(name string) error
	Inherits(role string) []string
	SetInherits(role string, parents []string) error
	// DefineRole makes a custom role known, granting nothing by itself
	// (policy.ErrRoleName, policy.ErrRoleExists).
	DefineRole(name string) error
	// DeleteRole removes a custom role and every binding to, from and of
	// it (policy.ErrBuiltinRole, policy.ErrUnknownRole).
	DeleteRole(name string) error
}

// groupNamePattern is a group's name: what a tool rule's "group:<name>"
// subject accepts.
var groupNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// routeGroups serves /groups (group membership and the roles groups
// hold); see the OpenAPI document.
//
//	GET    /groups
//	GET    /groups/{name}
//	PUT    /groups/{name} {"members": [...], "roles": [...]}
//	DELETE /groups/{name}
func (a *API) routeGroups(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) {
	switch {
	case len(rest) == 0 && method == fasthttp.MethodGet:
		if a.allow(ctx, p, policy.ResUsers, policy.ActRead) {
			writeJSON(ctx, fasthttp.StatusOK, map[string]any{"groups": a.Authz.Groups()})
		}
	case len(rest) == 1 && method == fasthttp.MethodGet:
		if !a.allow(ctx, p, policy.ResUsers, policy.ActRead) {
			return
		}
		if g, ok := a.existingGroup(ctx, rest[0]); ok {
			writeJSON(ctx, fasthttp.StatusOK, g)
		}
	case len(rest) == 1 && method == fasthttp.MethodPut:
		if a.allow(ctx, p, policy.ResUsers, policy.ActWrite) {
			a.putGroup(ctx, p, rest[0])
		}
	case len(rest) == 1 && method == fasthttp.MethodDelete:
		if a.allow(ctx, p, policy.ResUsers, policy.ActWrite) {
			a.deleteGroup(ctx, p, rest[0])
		}
	default:
		methodNotAllowed(ctx, method)
	}
}

// existingGroup returns the group named name, answering 404 when it has
// neither members nor roles (such a group does not exist).
func (a *API) existingGroup(ctx *fasthttp.RequestCtx, name string) (policy.Group, bool) {
	g := a.Authz.Group(name)
	if len(g.Members) == 0 && len(g.Roles) == 0 {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "no group \""+name+"\"", "")
		return g, false
	}
	return g, true
}

func (a *API) putGroup(ctx *fasthttp.RequestCtx, p auth.Principal, name string) {
	if !groupNamePattern.MatchString(name) {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field",
			"a group name is 1-64 letters, digits, '.', '_', '-' or '@', starting with a letter or digit", "name")
		return
	}
	var body struct {
		Members []string `json:"members"`
		Roles   []string `json:"roles"`
	}
	if err := decodeStrict(ctx.PostBody(), &body); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	members := slices.Compact(slices.Sorted(slices.Values(body.Members)))
	roles := slices.Compact(slices.Sorted(slices.Values(body.Roles)))
	if len(members) == 0 && len(roles) == 0 {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field",
			"a group needs members or roles; to remove it, DELETE it", "members")
		return
	}
	for _, m := range members {
		if _, err := a.Users.Get(detach(ctx), m); err != nil {
			if errors.Is(err, a.Errs.NotFound) {
				writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "user \""+m+"\" does not exist", "members")
				return
			}
			a.internal(ctx, err)
			return
		}
	}
	if !a.knownRoles(ctx, roles, "roles") {
		return
	}
	if !a.mayChangeGroup(ctx, p, a.Authz.Group(name), policy.Group{Name: name, Members: members, Roles: roles}) {
		return
	}
	if err := a.Authz.SetGroup(name, members, roles); err != nil {
		if errors.Is(err, policy.ErrUnknownRole) {
			writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", err.Error(), "roles")
			return
		}
		a.internal(ctx, err)
		return
	}
	a.record(ctx, p, "group.put", name, map[string]any{"members": members, "roles": roles})
	writeJSON(ctx, fasthttp.StatusOK, a.Authz.Group(name))
}

func (a *API) deleteGroup(ctx *fasthttp.RequestCtx, p auth.Principal, name string) {
	g, ok := a.existingGroup(ctx, name)
	if !ok || !a.mayChangeGroup(ctx, p, g, policy.Group{Name: name}) {
		return
	}
	if err := a.Authz.DeleteGroup(name); err != nil {
		a.internal(ctx, err)
		return
	}
	a.record(ctx, p, "group.delete", name, map[string]any{"members": g.Members, "roles": g.Roles})
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// mayChangeGroup answers 403 when turning group from into to grants or
// takes away a role p does not cover, or changes the roles of a member p
// may not act on: adding yourself to a group holding the owner role would
// be granting yourself owner; adding an owner to one, or removing them,
// changes an owner.
func (a *API) mayChangeGroup(ctx *fasthttp.RequestCtx, p auth.Principal, from, to policy.Group) bool {
	changed := symmetricDifference(from.Roles, to.Roles)
	if !a.mayGrant(ctx, p, changed, "roles") {
		return false
	}
	affected := symmetricDifference(from.Members, to.Members)
	if len(changed) > 0 {
		affected = slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(from.Members), to.Members...))))
	}
	// Members keep their group's roles while joining or leaving it: those
	// must be covered too, or p could move an owner in or out.
	if len(affected) > 0 && !a.mayGrant(ctx, p, append(slices.Clone(from.Roles), to.Roles...), "members") {
		return false
	}
	for _, m := range affected {
		if !a.mayActOn(ctx, p, m) {
			return false
		}
	}
	return true
}
