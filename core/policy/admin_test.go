package policy_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/policy"
	"github.com/gatehouse-mcp/gatehouse/core/secret"
	"github.com/gatehouse-mcp/gatehouse/core/store"
)

func openStore(t *testing.T, dir string) *store.Store {
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
	if len(rules) != len(policy.DefaultAdminRules)+1 {
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
