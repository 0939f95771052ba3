package policy_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/policy"
	"github.com/gatehouse-mcp/gatehouse/core/secret"
	"github.com/gatehouse-mcp/gatehouse/core/store"
)

func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	box, err := secret.New(make([]byte, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), dir, box, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestDefaultAdminRules(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	a, err := policy.NewAdmin(context.Background(), st.Policies())
	if err != nil {
		t.Fatal(err)
	}
	for user, role := range map[string]string{"olive": "owner", "ada": "admin", "mia": "member", "aud": "auditor"} {
		if err := a.SetRoles(user, []string{role}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		user, obj, act string
		want           bool
	}{
		{"olive", policy.ResPolicies, policy.ActWrite, true},
		{"ada", policy.ResUsers, policy.ActWrite, true},
		{"ada", policy.ResRequests, policy.ActApprove, true},
		{"mia", policy.ResConnectors, policy.ActRead, true},
		{"mia", policy.ResConnectors, policy.ActWrite, false},
		{"mia", policy.ResRequests, policy.ActApprove, false},
		{"mia", policy.ResRequests, policy.ActRead, false},
		{"mia", policy.ResRequestsOwn, policy.ActCreate, true},
		{"mia", policy.ResTokensSelf, policy.ActWrite, true},
		{"mia", policy.ResTokens, policy.ActWrite, false},
		{"mia", policy.ResAudit, policy.ActRead, false},
		{"aud", policy.ResAudit, policy.ActRead, true},
		{"aud", policy.ResConnectors, policy.ActWrite, false},
		{"aud", policy.ResRequests, policy.ActApprove, false},
		{"aud", policy.ResUsers, policy.ActRead, true},
		{"nobody", policy.ResConnectors, policy.ActRead, false},
		{"olive", policy.ResConnectorCommands, policy.ActWrite, true},
		{"ada", policy.ResConnectorCommands, policy.ActWrite, false},
		{"mia", policy.ResConnectorCommands, policy.ActWrite, false},
		{"ada", policy.ResSettings, policy.ActRead, true},
		{"ada", policy.ResSettings, policy.ActWrite, false},
		{"aud", policy.ResSettings, policy.ActRead, true},
		{"aud", policy.ResSettings, policy.ActWrite, false},
	}
	for _, tc := range tests {
		got, err := a.Allowed(tc.user, tc.obj, tc.act)
		if err != nil || got != tc.want {
			t.Errorf("Allowed(%s, %s, %s) = %v, %v; want %v", tc.user, tc.obj, tc.act, got, err, tc.want)
		}
	}
	if err := a.SetRoles("mia", []string{"superuser"}); !errors.Is(err, policy.ErrUnknownRole) {
		t.Errorf("unknown role: %v", err)
	}
}

// TestUpgradeAddsNewDefaultRules: an install whose rules predate the
// STDIO command permission gets its deny rule for admins at start.
func TestUpgradeAddsNewDefaultRules(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	ctx := context.Background()
	var old [][]string
	for _, r := range policy.DefaultAdminRules() {
		if r[2] != policy.ResConnectorCommands && r[2] != policy.ResSettings {
			old = append(old, r)
		}
	}
	if err := st.Policies().Add(ctx, policy.AdminModel, old...); err != nil {
		t.Fatal(err)
	}
	a, err := policy.NewAdmin(ctx, st.Policies())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetRoles("ada", []string{"admin"}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := a.Allowed("ada", policy.ResConnectorCommands, policy.ActWrite); ok {
		t.Error("an admin of an upgraded install may launch commands")
	}
	if ok, _ := a.Allowed("ada", policy.ResConnectors, policy.ActWrite); !ok {
		t.Error("an admin of an upgraded install lost connector write")
	}
	// A second start adds nothing twice.
	if _, err := policy.NewAdmin(ctx, st.Policies()); err != nil {
		t.Fatal(err)
	}
	rules, _ := st.Policies().List(ctx, policy.AdminModel)
	grants := 0
	for _, r := range rules {
		if r[0] == "p" {
			grants++
		}
	}
	if grants != len(policy.DefaultAdminRules()) {
		t.Errorf("%d grants after two starts, want %d", grants, len(policy.DefaultAdminRules()))
	}
}

func TestRulesPersistAndApplyWithoutRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	st := openStore(t, dir)
	ctx := context.Background()
	a, err := policy.NewAdmin(ctx, st.Policies())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetRoles("mia", []string{"member", "auditor"}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := a.Allowed("mia", policy.ResAudit, policy.ActRead); !ok {
		t.Fatal("auditor binding did not apply at once")
	}
	if err := a.SetRoles("mia", []string{"member"}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := a.Allowed("mia", policy.ResAudit, policy.ActRead); ok {
		t.Fatal("removing a role did not apply at once")
	}
	st.Close()

	st = openStore(t, dir)
	defer st.Close()
	b, err := policy.NewAdmin(ctx, st.Policies())
	if err != nil {
		t.Fatal(err)
	}
	if roles := b.DirectRoles("mia"); !slices.Equal(roles, []string{"member"}) {
		t.Errorf("after reopen mia has %v", roles)
	}
	rules, _ := st.Policies().List(ctx, policy.AdminModel)
	if len(rules) != len(policy.DefaultAdminRules())+1 {
		t.Errorf("%d rules stored; defaults were seeded twice or lost", len(rules))
	}
}

func TestDenyBeatsAllow(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	ctx := context.Background()
	if _, err := policy.NewAdmin(ctx, st.Policies()); err != nil { // seeds the defaults
		t.Fatal(err)
	}
	if err := st.Policies().Add(ctx, policy.AdminModel, []string{"p", "role:admin", policy.ResUsers, policy.ActWrite, "deny"}); err != nil {
		t.Fatal(err)
	}
	a, err := policy.NewAdmin(ctx, st.Policies())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetRoles("ada", []string{"admin"}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := a.Allowed("ada", policy.ResUsers, policy.ActWrite); ok {
		t.Error("an explicit deny did not beat the admin's wildcard allow")
	}
	if ok, _ := a.Allowed("ada", policy.ResConnectors, policy.ActWrite); !ok {
		t.Error("the deny leaked to other resources")
	}
}

func TestSubjectsFollowGroupsAndInheritance(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	a, err := policy.NewAdmin(context.Background(), st.Policies())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetRoles("mia", []string{"member"}); err != nil {
		t.Fatal(err)
	}
	if err := a.BindGroup("mia", "eng", "deployer"); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(a.Subjects("mia"), ",")
	if got != "group:eng,role:deployer,role:member,user:mia" {
		t.Errorf("subjects %s", got)
	}
	if got := strings.Join(a.Subjects("nobody"), ","); got != "user:nobody" {
		t.Errorf("subjects of a stranger %s", got)
	}
}

// newAdminWithMia returns an Admin on a fresh store where mia is a member.
func newAdminWithMia(t *testing.T) *policy.Admin {
	t.Helper()
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	a, err := policy.NewAdmin(context.Background(), st.Policies())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetRoles("mia", []string{"member"}); err != nil {
		t.Fatal(err)
	}
	return a
}

func groupsString(gs []policy.Group) string {
	var b strings.Builder
	for _, g := range gs {
		fmt.Fprintf(&b, "%s[%s|%s]", g.Name, strings.Join(g.Members, ","), strings.Join(g.Roles, ","))
	}
	return b.String()
}

func TestGroups(t *testing.T) {
	tests := []struct {
		name    string
		steps   func(a *policy.Admin) error
		wantErr error
		// After the steps: the groups, and mia's roles and tool-rule
		// subjects.
		wantGroups, wantRoles, wantSubjects string
	}{
		{
			name:       "a group gives its members its roles, and tool rules see the group",
			steps:      func(a *policy.Admin) error { return a.SetGroup("eng", []string{"mia", "max"}, []string{"auditor"}) },
			wantGroups: "eng[max,mia|auditor]", wantRoles: "auditor,member",
			wantSubjects: "group:eng,role:auditor,role:member,user:mia",
		},
		{
			name: "SetGroup replaces members and roles",
			steps: func(a *policy.Admin) error {
				if err := a.SetGroup("eng", []string{"mia", "max"}, []string{"auditor"}); err != nil {
					return err
				}
				return a.SetGroup("eng", []string{"max", "max"}, []string{"admin"})
			},
			wantGroups: "eng[max|admin]", wantRoles: "member", wantSubjects: "role:member,user:mia",
		},
		{
			name: "a group with roles but no members still exists",
			steps: func(a *policy.Admin) error {
				return a.SetGroup("ops", nil, []string{"admin"})
			},
			wantGroups: "ops[|admin]", wantRoles: "member", wantSubjects: "role:member,user:mia",
		},
		{
			name: "DeleteGroup takes the group and its roles away",
			steps: func(a *policy.Admin) error {
				if err := a.SetGroup("eng", []string{"mia"}, []string{"auditor"}); err != nil {
					return err
				}
				if err := a.SetGroup("ops", []string{"mia"}, nil); err != nil {
					return err
				}
				return a.DeleteGroup("eng")
			},
			wantGroups: "ops[mia|]", wantRoles: "member", wantSubjects: "group:ops,role:member,user:mia",
		},
		{
			name: "an unknown role is refused and changes nothing",
			steps: func(a *policy.Admin) error {
				if err := a.SetGroup("eng", []string{"mia"}, []string{"auditor"}); err != nil {
					return err
				}
				return a.SetGroup("eng", []string{"max"}, []string{"superuser"})
			},
			wantErr:    policy.ErrUnknownRole,
			wantGroups: "eng[mia|auditor]", wantRoles: "auditor,member",
			wantSubjects: "group:eng,role:auditor,role:member,user:mia",
		},
		{
			name:       "a user in a group holding admin is an admin",
			steps:      func(a *policy.Admin) error { return a.SetGroup("ops", []string{"mia"}, []string{"admin"}) },
			wantGroups: "ops[mia|admin]", wantRoles: "admin,member",
			wantSubjects: "group:ops,role:admin,role:member,user:mia",
		},
		{
			name: "a group's role passes on what that role inherits",
			steps: func(a *policy.Admin) error {
				if err := a.SetInherits("auditor", []string{"admin"}); err != nil {
					return err
				}
				return a.SetGroup("eng", []string{"mia"}, []string{"auditor"})
			},
			wantGroups: "eng[mia|auditor]", wantRoles: "admin,auditor,member",
			wantSubjects: "group:eng,role:admin,role:auditor,role:member,user:mia",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAdminWithMia(t)
			if err := tc.steps(a); !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if got := groupsString(a.Groups()); got != tc.wantGroups {
				t.Errorf("groups %s, want %s", got, tc.wantGroups)
			}
			if got := strings.Join(a.Roles("mia"), ","); got != tc.wantRoles {
				t.Errorf("mia's roles %s, want %s", got, tc.wantRoles)
			}
			if got := strings.Join(a.Subjects("mia"), ","); got != tc.wantSubjects {
				t.Errorf("mia's subjects %s, want %s", got, tc.wantSubjects)
			}
		})
	}
	t.Run("a group's roles authorize its members", func(t *testing.T) {
		a := newAdminWithMia(t)
		if ok, _ := a.Allowed("mia", policy.ResUsers, policy.ActWrite); ok {
			t.Fatal("a member may write users")
		}
		if err := a.SetGroup("ops", []string{"mia"}, []string{"admin"}); err != nil {
			t.Fatal(err)
		}
		if ok, _ := a.Allowed("mia", policy.ResUsers, policy.ActWrite); !ok {
			t.Error("mia's group holds admin, but mia may not write users")
		}
		if g := a.Group("nobody"); g.Name != "nobody" || len(g.Members) != 0 || len(g.Roles) != 0 {
			t.Errorf("an unknown group is %+v, want empty", g)
		}
	})
}

func TestRoleInheritance(t *testing.T) {
	tests := []struct {
		name    string
		steps   func(a *policy.Admin) error
		wantErr error
		// After the steps: what member inherits, and mia's roles.
		wantInherits, wantRoles string
	}{
		{
			name:         "a role's holders hold what it inherits",
			steps:        func(a *policy.Admin) error { return a.SetInherits("member", []string{"auditor"}) },
			wantInherits: "auditor", wantRoles: "auditor,member",
		},
		{
			name: "inheritance is transitive",
			steps: func(a *policy.Admin) error {
				if err := a.SetInherits("auditor", []string{"admin"}); err != nil {
					return err
				}
				return a.SetInherits("member", []string{"auditor"})
			},
			wantInherits: "auditor", wantRoles: "admin,auditor,member",
		},
		{
			name: "setting replaces the parents",
			steps: func(a *policy.Admin) error {
				if err := a.SetInherits("member", []string{"auditor", "admin"}); err != nil {
					return err
				}
				return a.SetInherits("member", nil)
			},
			wantInherits: "", wantRoles: "member",
		},
		{
			name:         "an unknown parent is refused",
			steps:        func(a *policy.Admin) error { return a.SetInherits("member", []string{"superuser"}) },
			wantErr:      policy.ErrUnknownRole,
			wantInherits: "", wantRoles: "member",
		},
		{
			name:         "an unknown role is refused",
			steps:        func(a *policy.Admin) error { return a.SetInherits("superuser", []string{"member"}) },
			wantErr:      policy.ErrUnknownRole,
			wantInherits: "", wantRoles: "member",
		},
		{
			name:         "a role cannot inherit itself",
			steps:        func(a *policy.Admin) error { return a.SetInherits("member", []string{"member"}) },
			wantErr:      policy.ErrRoleCycle,
			wantInherits: "", wantRoles: "member",
		},
		{
			name: "a cycle through other roles is refused and changes nothing",
			steps: func(a *policy.Admin) error {
				if err := a.SetInherits("admin", []string{"auditor"}); err != nil {
					return err
				}
				if err := a.SetInherits("auditor", []string{"member"}); err != nil {
					return err
				}
				return a.SetInherits("member", []string{"admin"})
			},
			wantErr:      policy.ErrRoleCycle,
			wantInherits: "", wantRoles: "member",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAdminWithMia(t)
			if err := tc.steps(a); !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if got := strings.Join(a.Inherits("member"), ","); got != tc.wantInherits {
				t.Errorf("member inherits %q, want %q", got, tc.wantInherits)
			}
			if got := strings.Join(a.Roles("mia"), ","); got != tc.wantRoles {
				t.Errorf("mia's roles %s, want %s", got, tc.wantRoles)
			}
		})
	}
}

func TestDefineRole(t *testing.T) {
	tests := []struct {
		name    string
		steps   func(a *policy.Admin) error
		wantErr error
		// wantKnown is KnownRoles after the steps.
		wantKnown string
	}{
		{
			name:      "a defined role is known",
			steps:     func(a *policy.Admin) error { return a.DefineRole("deployer") },
			wantKnown: "admin,auditor,deployer,member,owner",
		},
		{
			name:      "names may hold dots, dashes, underscores and at signs",
			steps:     func(a *policy.Admin) error { return a.DefineRole("Ops.deploy_er-1@eu") },
			wantKnown: "Ops.deploy_er-1@eu,admin,auditor,member,owner",
		},
		{
			name: "defining a role twice is refused",
			steps: func(a *policy.Admin) error {
				if err := a.DefineRole("deployer"); err != nil {
					return err
				}
				return a.DefineRole("deployer")
			},
			wantErr:   policy.ErrRoleExists,
			wantKnown: "admin,auditor,deployer,member,owner",
		},
		{
			name:      "a built-in role exists already",
			steps:     func(a *policy.Admin) error { return a.DefineRole("auditor") },
			wantErr:   policy.ErrRoleExists,
			wantKnown: "admin,auditor,member,owner",
		},
		{
			name: "a role a binding names exists already",
			steps: func(a *policy.Admin) error {
				return errors.Join(a.BindGroup("", "eng", "deployer"), a.DefineRole("deployer"))
			},
			wantErr:   policy.ErrRoleExists,
			wantKnown: "admin,auditor,deployer,member,owner",
		},
		{
			name:      "an empty name is refused",
			steps:     func(a *policy.Admin) error { return a.DefineRole("") },
			wantErr:   policy.ErrRoleName,
			wantKnown: "admin,auditor,member,owner",
		},
		{
			name:      "a name starting with a dash is refused",
			steps:     func(a *policy.Admin) error { return a.DefineRole("-deployer") },
			wantErr:   policy.ErrRoleName,
			wantKnown: "admin,auditor,member,owner",
		},
		{
			name:      "a name with a colon or a space is refused",
			steps:     func(a *policy.Admin) error { return errors.Join(a.DefineRole("role:x"), a.DefineRole("de ployer")) },
			wantErr:   policy.ErrRoleName,
			wantKnown: "admin,auditor,member,owner",
		},
		{
			name:      "a name of 65 characters is refused",
			steps:     func(a *policy.Admin) error { return a.DefineRole(strings.Repeat("d", 65)) },
			wantErr:   policy.ErrRoleName,
			wantKnown: "admin,auditor,member,owner",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAdminWithMia(t)
			if err := tc.steps(a); !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if got := strings.Join(a.KnownRoles(), ","); got != tc.wantKnown {
				t.Errorf("known roles %s, want %s", got, tc.wantKnown)
			}
		})
	}
}

// adminResources and adminActions are every object and action an admin
// API request asks about.
var (
	adminResources = []string{policy.ResConnectors, policy.ResCatalog, policy.ResRequests, policy.ResRequestsOwn,
		policy.ResUsers, policy.ResUsersSelf, policy.ResTokens, policy.ResTokensSelf, policy.ResCredentials,
		policy.ResAudit, policy.ResAnalytics, policy.ResPolicies, policy.ResGuards, policy.ResApprovals}
	adminActions = []string{policy.ActRead, policy.ActWrite, policy.ActCreate, policy.ActApprove}
)

func TestDefinedRoleGrantsNothing(t *testing.T) {
	a := newAdminWithMia(t)
	if err := a.DefineRole("deployer"); err != nil {
		t.Fatal(err)
	}
	if err := a.SetRoles("dee", []string{"deployer"}); err != nil {
		t.Fatal(err)
	}
	for _, obj := range adminResources {
		for _, act := range adminActions {
			if ok, err := a.Allowed("dee", obj, act); ok || err != nil {
				t.Errorf("a holder of a defined role may %s %s (err %v)", act, obj, err)
			}
		}
	}
	t.Run("tool rules see the role", func(t *testing.T) {
		if got := strings.Join(a.Subjects("dee"), ","); got != "role:deployer,user:dee" {
			t.Errorf("subjects %s", got)
		}
	})
	t.Run("it grants what it inherits, no more", func(t *testing.T) {
		if err := errors.Join(a.SetInherits("deployer", []string{"auditor"}), a.SetRoles("aud", []string{"auditor"})); err != nil {
			t.Fatal(err)
		}
		for _, obj := range adminResources {
			for _, act := range adminActions {
				want, _ := a.Allowed("aud", obj, act)
				if got, _ := a.Allowed("dee", obj, act); got != want {
					t.Errorf("%s %s: deployer inheriting auditor %v, auditor %v", act, obj, got, want)
				}
			}
		}
	})
}

func TestDeleteRole(t *testing.T) {
	// setup defines deployer and ties it every way: mia holds it, group
	// eng holds it, it inherits auditor, member inherits it.
	setup := func(t *testing.T, a *policy.Admin) {
		t.Helper()
		for _, err := range []error{
			a.DefineRole("deployer"),
			a.SetRoles("mia", []string{"member", "deployer"}),
			a.SetGroup("eng", []string{"max"}, []string{"deployer", "admin"}),
			a.SetInherits("deployer", []string{"auditor"}),
			a.SetInherits("member", []string{"deployer"}),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name    string
		role    string
		wantErr error
		// After the delete: the known roles, mia's and max's roles (with
		// inherited ones), the groups and what member inherits.
		wantKnown, wantMia, wantMax, wantGroups, wantMemberInherits string
	}{
		{
			name: "deleting a custom role unbinds it everywhere", role: "deployer",
			wantKnown: "admin,auditor,member,owner", wantMia: "member", wantMax: "admin",
			wantGroups: "eng[max|admin]", wantMemberInherits: "",
		},
		{
			name: "a built-in role is refused and nothing changes", role: "auditor", wantErr: policy.ErrBuiltinRole,
			wantKnown: "admin,auditor,deployer,member,owner", wantMia: "auditor,deployer,member", wantMax: "admin,auditor,deployer",
			wantGroups: "eng[max|admin,deployer]", wantMemberInherits: "deployer",
		},
		{
			name: "owner is refused too", role: "owner", wantErr: policy.ErrBuiltinRole,
			wantKnown: "admin,auditor,deployer,member,owner", wantMia: "auditor,deployer,member", wantMax: "admin,auditor,deployer",
			wantGroups: "eng[max|admin,deployer]", wantMemberInherits: "deployer",
		},
		{
			name: "an unknown role is refused", role: "superuser", wantErr: policy.ErrUnknownRole,
			wantKnown: "admin,auditor,deployer,member,owner", wantMia: "auditor,deployer,member", wantMax: "admin,auditor,deployer",
			wantGroups: "eng[max|admin,deployer]", wantMemberInherits: "deployer",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAdminWithMia(t)
			setup(t, a)
			if err := a.DeleteRole(tc.role); !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			for _, c := range []struct{ what, got, want string }{
				{"known roles", strings.Join(a.KnownRoles(), ","), tc.wantKnown},
				{"mia's roles", strings.Join(a.Roles("mia"), ","), tc.wantMia},
				{"max's roles", strings.Join(a.Roles("max"), ","), tc.wantMax},
				{"groups", groupsString(a.Groups()), tc.wantGroups},
				{"member inherits", strings.Join(a.Inherits("member"), ","), tc.wantMemberInherits},
			} {
				if c.got != c.want {
					t.Errorf("%s %q, want %q", c.what, c.got, c.want)
				}
			}
		})
	}
	t.Run("a role only a binding names can be deleted", func(t *testing.T) {
		a := newAdminWithMia(t)
		if err := a.BindGroup("mia", "eng", "deployer"); err != nil {
			t.Fatal(err)
		}
		if err := a.DeleteRole("deployer"); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(a.Subjects("mia"), ","); got != "group:eng,role:member,user:mia" {
			t.Errorf("subjects %s", got)
		}
	})
	t.Run("a deleted role can be defined again, holding nothing", func(t *testing.T) {
		a := newAdminWithMia(t)
		setup(t, a)
		if err := errors.Join(a.DeleteRole("deployer"), a.DefineRole("deployer")); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(a.Inherits("deployer"), ","); got != "" {
			t.Errorf("deployer inherits %q again", got)
		}
		if got := strings.Join(a.Roles("mia"), ","); got != "member" {
			t.Errorf("mia's roles %s", got)
		}
	})
}

func TestCustomRolesPersist(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	reopen := func(t *testing.T) (*store.Store, *policy.Admin) {
		t.Helper()
		st := openStore(t, dir)
		a, err := policy.NewAdmin(ctx, st.Policies())
		if err != nil {
			t.Fatal(err)
		}
		return st, a
	}
	st, a := reopen(t)
	for _, err := range []error{
		a.DefineRole("deployer"),
		a.DefineRole("releaser"),
		a.SetRoles("mia", []string{"member", "deployer"}),
		a.SetGroup("eng", []string{"max"}, []string{"deployer"}),
		a.SetInherits("deployer", []string{"auditor"}),
		a.SetInherits("releaser", []string{"deployer"}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	st, a = reopen(t)
	if got := strings.Join(a.KnownRoles(), ","); got != "admin,auditor,deployer,member,owner,releaser" {
		t.Fatalf("after reopen the known roles are %s", got)
	}
	if got := strings.Join(a.Roles("mia"), ","); got != "auditor,deployer,member" {
		t.Fatalf("after reopen mia holds %s", got)
	}
	if err := a.DeleteRole("deployer"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st, a = reopen(t)
	defer st.Close()
	for _, c := range []struct{ what, got, want string }{
		{"known roles", strings.Join(a.KnownRoles(), ","), "admin,auditor,member,owner,releaser"},
		{"mia's roles", strings.Join(a.Roles("mia"), ","), "member"},
		{"groups", groupsString(a.Groups()), "eng[max|]"},
		{"releaser inherits", strings.Join(a.Inherits("releaser"), ","), ""},
	} {
		if c.got != c.want {
			t.Errorf("after reopen, %s %q, want %q", c.what, c.got, c.want)
		}
	}
	rules, err := st.Policies().List(ctx, policy.AdminModel)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if slices.Contains(r, "role:deployer") {
			t.Errorf("rule %v outlived its role", r)
		}
	}
	// The defaults, mia's member binding, max in eng, releaser's definition.
	if len(rules) != len(policy.DefaultAdminRules())+3 {
		t.Errorf("%d rules stored, want %d: %v", len(rules), len(policy.DefaultAdminRules())+3, rules)
	}
}

// TestRoleLookupsFollowEveryChange: role lookups are cached per user; each
// kind of change to the role graph shows in the next lookup.
func TestRoleLookupsFollowEveryChange(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "data"))
	defer st.Close()
	a, err := policy.NewAdmin(context.Background(), st.Policies())
	if err != nil {
		t.Fatal(err)
	}
	has := func(subject string) bool { return slices.Contains(a.Subjects("kim"), subject) }
	steps := []struct {
		name   string
		change func() error
		want   map[string]bool
	}{
		{"a role bound", func() error { return a.SetRoles("kim", []string{"member"}) }, map[string]bool{"role:member": true}},
		{"a group joined", func() error { return a.SetGroup("ops", []string{"kim"}, []string{"auditor"}) }, map[string]bool{"group:ops": true, "role:auditor": true}},
		{"a custom role inherited through the group", func() error {
			if err := a.DefineRole("deployer"); err != nil {
				return err
			}
			if err := a.SetInherits("auditor", []string{"deployer"}); err != nil {
				return err
			}
			return nil
		}, map[string]bool{"role:deployer": true}},
		{"the custom role deleted", func() error { return a.DeleteRole("deployer") }, map[string]bool{"role:deployer": false, "role:auditor": true}},
		{"the group deleted", func() error { return a.DeleteGroup("ops") }, map[string]bool{"group:ops": false, "role:auditor": false, "role:member": true}},
		{"the user forgotten", func() error { return a.ForgetUser("kim") }, map[string]bool{"role:member": false}},
	}
	for _, s := range steps {
		_ = a.Subjects("kim") // warm the cache before each change
		if err := s.change(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		for subject, want := range s.want {
			if has(subject) != want {
				t.Errorf("after %s: holds %s = %v, want %v (subjects %v)", s.name, subject, !want, want, a.Subjects("kim"))
			}
		}
	}
}
