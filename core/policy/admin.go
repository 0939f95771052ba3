// Package policy decides who may do what. This file holds the admin API's
// own authorization: a Casbin RBAC model whose rules (role grants and
// user→role bindings) live in the store and change without a restart.
package policy

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
)

// AdminModel names the admin API's rule set in the store.
const AdminModel = "admin"

// Admin API resources (Casbin objects) and actions.
const (
	ResConnectors  = "connectors"
	ResCatalog     = "catalog"
	ResRequests    = "requests"
	ResRequestsOwn = "requests/self"
	ResUsers       = "users"
	ResUsersSelf   = "users/self"
	ResTokens      = "tokens"
	ResTokensSelf  = "tokens/self"
	ResCredentials = "credentials/self"
	ResAudit       = "audit"
	ResAnalytics   = "analytics"
	ResPolicies    = "policies"
	ResGuards      = "guards"
	ResApprovals   = "approvals"
	// ResConnectorCommands is creating or changing a STDIO connector's
	// command, args or env: running a program on the gateway host. Owners
	// hold it; admins are denied it by an explicit rule.
	ResConnectorCommands = "connectors/commands"
	// ResSettings is the run-time settings (GET/PUT /admin/v1/settings):
	// what connectors may reach on the internal network. Owners write
	// them; admins and auditors read them.
	ResSettings = "settings"
	// ResRedirects is the OAuth redirect-URI rules and their pending
	// approvals: owners and admins change them, auditors read them.
	ResRedirects = "redirects"

	ActRead    = "read"
	ActWrite   = "write"
	ActCreate  = "create"
	ActApprove = "approve"
)

// adminModelText: subjects are "user:<id>" bound to "role:<name>" by g
// rules (roles may inherit roles); objects match with keyMatch so "*"
// grants every resource; an explicit deny beats any allow.
const adminModelText = `
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act, eft

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = g(r.sub, p.sub) && keyMatch(r.obj, p.obj) && (r.act == p.act || p.act == "*")
`

// DefaultAdminRules returns the rules written on a fresh install (a fresh
// copy each call): owners and admins may
// do everything (granting the owner role is reserved to owners, in code);
// members browse, request and manage their own tokens and credentials;
// auditors read everything and write nothing but their own tokens.
func DefaultAdminRules() [][]string {
	return [][]string{
		{"p", "role:owner", "*", "*", "allow"},
		{"p", "role:admin", "*", "*", "allow"},
		{"p", "role:admin", ResConnectorCommands, "*", "deny"},
		{"p", "role:admin", ResSettings, ActWrite, "deny"},
		{"p", "role:member", ResConnectors, ActRead, "allow"},
		{"p", "role:member", ResCatalog, ActRead, "allow"},
		{"p", "role:member", ResRequestsOwn, ActRead, "allow"},
		{"p", "role:member", ResRequestsOwn, ActCreate, "allow"},
		{"p", "role:member", ResTokensSelf, "*", "allow"},
		{"p", "role:member", ResUsersSelf, ActRead, "allow"},
		{"p", "role:member", ResCredentials, ActWrite, "allow"},
		{"p", "role:auditor", ResConnectors, ActRead, "allow"},
		{"p", "role:auditor", ResCatalog, ActRead, "allow"},
		{"p", "role:auditor", ResRequests, ActRead, "allow"},
		{"p", "role:auditor", ResRequestsOwn, ActRead, "allow"},
		{"p", "role:auditor", ResUsers, ActRead, "allow"},
		{"p", "role:auditor", ResUsersSelf, ActRead, "allow"},
		{"p", "role:auditor", ResTokens, ActRead, "allow"},
		{"p", "role:auditor", ResTokensSelf, "*", "allow"},
		{"p", "role:auditor", ResAudit, ActRead, "allow"},
		{"p", "role:auditor", ResAnalytics, ActRead, "allow"},
		{"p", "role:auditor", ResPolicies, ActRead, "allow"},
		{"p", "role:auditor", ResGuards, ActRead, "allow"},
		{"p", "role:auditor", ResApprovals, ActRead, "allow"},
		{"p", "role:auditor", ResSettings, ActRead, "allow"},
		{"p", "role:auditor", ResRedirects, ActRead, "allow"},
	}
}

// upgradeAdminRules are default rules added after the first release: an
// install whose rules predate them gets each that is missing at start.
var upgradeAdminRules = [][]string{
	{"p", "role:admin", ResConnectorCommands, "*", "deny"},
	{"p", "role:admin", ResSettings, ActWrite, "deny"},
	{"p", "role:auditor", ResSettings, ActRead, "allow"},
	{"p", "role:auditor", ResRedirects, ActRead, "allow"},
}

// ErrUnknownRole is returned when a role binding names a role no rule
// mentions.
var ErrUnknownRole = errors.New("unknown role")

// Admin authorizes admin API calls. It is safe for concurrent use.
type Admin struct {
	e *casbin.SyncedEnforcer

	// Role lookups are on every MCP request (policy subjects, sessions'
	// current roles): they are cached per user and dropped as a whole
	// whenever the role graph changes (gen counts changes).
	gen   atomic.Uint64
	roles sync.Map // user → cachedRoles
}

// cachedRoles is what the role graph gives a user, as of generation gen.
type cachedRoles struct {
	gen      uint64
	subjects []string // "user:<id>" and every role and group held, sorted
	roles    []string // the role names among them, sorted
}

// changed invalidates the role cache; every method changing the role
// graph defers it.
func (a *Admin) changed() { a.gen.Add(1) }

// lookup returns what user holds, directly or inherited (cached; callers
// get copies, so the cache cannot be changed through them).
func (a *Admin) lookup(user string) cachedRoles {
	gen := a.gen.Load()
	if v, ok := a.roles.Load(user); ok && v.(cachedRoles).gen == gen {
		return v.(cachedRoles)
	}
	implicit, _ := a.e.GetImplicitRolesForUser(userSubject(user))
	c := cachedRoles{gen: gen, subjects: append([]string{userSubject(user)}, implicit...), roles: []string{}}
	slices.Sort(c.subjects)
	c.subjects = slices.Compact(c.subjects)
	for _, s := range c.subjects {
		if r, ok := strings.CutPrefix(s, "role:"); ok {
			c.roles = append(c.roles, r)
		}
	}
	a.roles.Store(user, c)
	return c
}

// NewAdmin loads the admin rules from store, writing DefaultAdminRules
// first when there are none (a fresh install).
func NewAdmin(ctx context.Context, store RuleStore) (*Admin, error) {
	existing, err := store.List(ctx, AdminModel)
	if err != nil {
		return nil, err
	}
	if len(existing) == 0 {
		if err := store.Add(ctx, AdminModel, DefaultAdminRules()...); err != nil {
			return nil, fmt.Errorf("seed admin rules: %w", err)
		}
	} else {
		for _, r := range upgradeAdminRules {
			if !slices.ContainsFunc(existing, func(e []string) bool { return slices.Equal(e, r) }) {
				if err := store.Add(ctx, AdminModel, r); err != nil {
					return nil, fmt.Errorf("upgrade admin rules: %w", err)
				}
			}
		}
	}
	m, err := model.NewModelFromString(adminModelText)
	if err != nil {
		return nil, fmt.Errorf("admin policy model: %w", err)
	}
	e, err := casbin.NewSyncedEnforcer(m, &adapter{store: store, model: AdminModel})
	if err != nil {
		return nil, fmt.Errorf("admin policy: %w", err)
	}
	return &Admin{e: e}, nil
}

func userSubject(user string) string { return "user:" + user }
func roleSubject(role string) string { return "role:" + role }

// Allowed reports whether user may perform act on obj.
func (a *Admin) Allowed(user, obj, act string) (bool, error) {
	ok, err := a.e.Enforce(userSubject(user), obj, act)
	if err != nil {
		return false, fmt.Errorf("authorize %s %s: %w", act, obj, err)
	}
	return ok, nil
}

// Roles returns the roles bound to user, inherited ones included, sorted.
func (a *Admin) Roles(user string) []string { return slices.Clone(a.lookup(user).roles) }

// DirectRoles returns the roles bound to user directly, sorted.
func (a *Admin) DirectRoles(user string) []string {
	subjects, _ := a.e.GetRolesForUser(userSubject(user))
	out := make([]string, 0, len(subjects))
	for _, s := range subjects {
		if r, ok := strings.CutPrefix(s, "role:"); ok {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}

// KnownRoles returns every role some rule mentions, built-ins included.
func (a *Admin) KnownRoles() []string {
	seen := map[string]bool{}
	for _, r := range auth.BuiltinRoles() {
		seen[r] = true
	}
	subjects, _ := a.e.GetAllSubjects()
	roles, _ := a.e.GetAllRoles()
	for _, s := range append(subjects, roles...) {
		if r, ok := strings.CutPrefix(s, "role:"); ok {
			seen[r] = true
		}
	}
	out := make([]string, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// SetRoles makes roles exactly the roles bound to user. Every role must be
// known (ErrUnknownRole names the first that is not).
func (a *Admin) SetRoles(user string, roles []string) error {
	defer a.changed()
	known := a.KnownRoles()
	for _, r := range roles {
		if !slices.Contains(known, r) {
			return fmt.Errorf("%w %q (known: %s)", ErrUnknownRole, r, strings.Join(known, ", "))
		}
	}
	current := a.DirectRoles(user)
	for _, r := range current {
		if !slices.Contains(roles, r) {
			if _, err := a.e.DeleteRoleForUser(userSubject(user), roleSubject(r)); err != nil {
				return fmt.Errorf("unbind %s from %s: %w", r, user, err)
			}
		}
	}
	for _, r := range roles {
		if !slices.Contains(current, r) {
			if _, err := a.e.AddRoleForUser(userSubject(user), roleSubject(r)); err != nil {
				return fmt.Errorf("bind %s to %s: %w", r, user, err)
			}
		}
	}
	return nil
}

// ForgetUser removes every binding of user.
func (a *Admin) ForgetUser(user string) error {
	defer a.changed()
	if _, err := a.e.DeleteRolesForUser(userSubject(user)); err != nil {
		return fmt.Errorf("unbind roles of %s: %w", user, err)
	}
	return nil
}

// Subjects returns the subjects a tool-rule decision for user considers:
// "user:<id>" and every role and group bound to it, directly or inherited
// (Casbin's role graph: g rules may bind users to groups, groups to roles
// and roles to roles), sorted.
func (a *Admin) Subjects(user string) []string { return slices.Clone(a.lookup(user).subjects) }

// BindGroup makes user a member of group, and group a holder of role when
// role is not empty (role inheritance through groups).
func (a *Admin) BindGroup(user, group, role string) error {
	defer a.changed()
	if user != "" {
		if _, err := a.e.AddRoleForUser(userSubject(user), "group:"+group); err != nil {
			return fmt.Errorf("add %s to group %s: %w", user, group, err)
		}
	}
	if role != "" {
		if _, err := a.e.AddRoleForUser("group:"+group, roleSubject(role)); err != nil {
			return fmt.Errorf("grant %s to group %s: %w", role, group, err)
		}
	}
	return nil
}

// Group is a named set of users holding roles: a user in the group holds
// them too (for the admin API and tool rules alike), and tool rules may
// name the group itself ("group:<name>").
type Group struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
	Roles   []string `json:"roles"`
}

func groupSubject(group string) string { return "group:" + group }

// Groups returns every group with members or roles, sorted by name.
func (a *Admin) Groups() []Group {
	names := map[string]bool{}
	grouping, _ := a.e.GetGroupingPolicy()
	for _, g := range grouping {
		for _, s := range g[:2] {
			if n, ok := strings.CutPrefix(s, "group:"); ok {
				names[n] = true
			}
		}
	}
	out := make([]Group, 0, len(names))
	for n := range names {
		out = append(out, a.group(n))
	}
	slices.SortFunc(out, func(x, y Group) int { return strings.Compare(x.Name, y.Name) })
	return out
}

func (a *Admin) group(name string) Group {
	g := Group{Name: name, Members: []string{}, Roles: []string{}}
	users, _ := a.e.GetUsersForRole(groupSubject(name))
	for _, u := range users {
		if id, ok := strings.CutPrefix(u, "user:"); ok {
			g.Members = append(g.Members, id)
		}
	}
	roles, _ := a.e.GetRolesForUser(groupSubject(name))
	for _, r := range roles {
		if id, ok := strings.CutPrefix(r, "role:"); ok {
			g.Roles = append(g.Roles, id)
		}
	}
	slices.Sort(g.Members)
	slices.Sort(g.Roles)
	return g
}

// Group returns one group (empty when it has no members or roles).
func (a *Admin) Group(name string) Group { return a.group(name) }

// SetGroup makes members and roles exactly the group's. Every role must
// be known (ErrUnknownRole).
func (a *Admin) SetGroup(name string, members, roles []string) error {
	defer a.changed()
	known := a.KnownRoles()
	for _, r := range roles {
		if !slices.Contains(known, r) {
			return fmt.Errorf("%w %q (known: %s)", ErrUnknownRole, r, strings.Join(known, ", "))
		}
	}
	if err := a.DeleteGroup(name); err != nil {
		return err
	}
	for _, m := range slices.Compact(slices.Sorted(slices.Values(members))) {
		if _, err := a.e.AddRoleForUser(userSubject(m), groupSubject(name)); err != nil {
			return fmt.Errorf("add %s to group %s: %w", m, name, err)
		}
	}
	for _, r := range slices.Compact(slices.Sorted(slices.Values(roles))) {
		if _, err := a.e.AddRoleForUser(groupSubject(name), roleSubject(r)); err != nil {
			return fmt.Errorf("grant %s to group %s: %w", r, name, err)
		}
	}
	return nil
}

// DeleteGroup removes a group's members and roles.
func (a *Admin) DeleteGroup(name string) error {
	defer a.changed()
	if _, err := a.e.DeleteRolesForUser(groupSubject(name)); err != nil {
		return fmt.Errorf("ungrant roles of group %s: %w", name, err)
	}
	users, _ := a.e.GetUsersForRole(groupSubject(name))
	for _, u := range users {
		if _, err := a.e.DeleteRoleForUser(u, groupSubject(name)); err != nil {
			return fmt.Errorf("remove %s from group %s: %w", u, name, err)
		}
	}
	return nil
}

// Inherits returns the roles role inherits directly, sorted.
func (a *Admin) Inherits(role string) []string {
	parents, _ := a.e.GetRolesForUser(roleSubject(role))
	out := []string{}
	for _, p := range parents {
		if r, ok := strings.CutPrefix(p, "role:"); ok {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}

// ErrRoleCycle is returned when an inheritance would make a role inherit
// itself.
var ErrRoleCycle = errors.New("role inheritance cycle")

// SetInherits makes parents exactly the roles role inherits: a holder of
// role holds them too. Roles must be known; cycles are refused.
func (a *Admin) SetInherits(role string, parents []string) error {
	defer a.changed()
	known := a.KnownRoles()
	for _, r := range append([]string{role}, parents...) {
		if !slices.Contains(known, r) {
			return fmt.Errorf("%w %q (known: %s)", ErrUnknownRole, r, strings.Join(known, ", "))
		}
	}
	for _, p := range parents {
		if p == role || slices.Contains(a.ancestors(p), role) {
			return fmt.Errorf("%w: %s would inherit itself through %s", ErrRoleCycle, role, p)
		}
	}
	if _, err := a.e.DeleteRolesForUser(roleSubject(role)); err != nil {
		return fmt.Errorf("clear inheritance of %s: %w", role, err)
	}
	for _, p := range parents {
		if _, err := a.e.AddRoleForUser(roleSubject(role), roleSubject(p)); err != nil {
			return fmt.Errorf("%s inherits %s: %w", role, p, err)
		}
	}
	return nil
}

// ancestors lists every role role inherits, directly or not.
func (a *Admin) ancestors(role string) []string {
	implicit, _ := a.e.GetImplicitRolesForUser(roleSubject(role))
	out := []string{}
	for _, s := range implicit {
		if r, ok := strings.CutPrefix(s, "role:"); ok {
			out = append(out, r)
		}
	}
	return out
}

// Errors of defining and deleting custom roles.
var (
	// ErrRoleName is returned for a role name outside roleNamePattern.
	ErrRoleName = errors.New("invalid role name")
	// ErrRoleExists is returned when defining a role that is already known.
	ErrRoleExists = errors.New("role exists")
	// ErrBuiltinRole is returned when deleting a built-in role.
	ErrBuiltinRole = errors.New("built-in role")
)

// roleNamePattern is a role's name: what a tool rule's "role:<name>"
// subject accepts.
var roleNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// ValidRoleName reports whether name may name a custom role.
func ValidRoleName(name string) bool { return roleNamePattern.MatchString(name) }

// Custom roles are recorded by a policy line on an object no request asks
// for and an action no request performs: the line makes the role known
// (KnownRoles lists every policy subject) and grants nothing, so a custom
// role's holders get only what tool rules and inheritance give them.
const (
	roleMarkerObject = "_role"
	roleMarkerAction = "define"
)

// DefineRole records name as a custom role: known, so users, groups and
// roles may be bound to it and tool rules may name it, but granting
// nothing in the admin API. A known name is ErrRoleExists, a bad one
// ErrRoleName.
func (a *Admin) DefineRole(name string) error {
	defer a.changed()
	if !ValidRoleName(name) {
		return fmt.Errorf("%w %q: 1-64 letters, digits, '.', '_', '-' or '@', starting with a letter or digit", ErrRoleName, name)
	}
	if slices.Contains(a.KnownRoles(), name) {
		return fmt.Errorf("%w: %q", ErrRoleExists, name)
	}
	added, err := a.e.AddPolicy(roleSubject(name), roleMarkerObject, roleMarkerAction, "allow")
	if err != nil {
		return fmt.Errorf("define role %s: %w", name, err)
	}
	if !added { // defined meanwhile by another caller
		return fmt.Errorf("%w: %q", ErrRoleExists, name)
	}
	return nil
}

// DeleteRole removes a custom role: its policy lines, the users and groups
// bound to it, and every inheritance from or to it. Built-in roles are
// ErrBuiltinRole, unknown ones ErrUnknownRole.
func (a *Admin) DeleteRole(name string) error {
	defer a.changed()
	if slices.Contains(auth.BuiltinRoles(), name) {
		return fmt.Errorf("%w: %q ships with Gatehouse", ErrBuiltinRole, name)
	}
	if !slices.Contains(a.KnownRoles(), name) {
		return fmt.Errorf("%w %q", ErrUnknownRole, name)
	}
	if _, err := a.e.DeleteRole(roleSubject(name)); err != nil {
		return fmt.Errorf("delete role %s: %w", name, err)
	}
	return nil
}
