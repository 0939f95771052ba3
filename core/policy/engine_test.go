package policy_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

func TestEngineLifecycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	st := openStore(t, dir)
	ctx := context.Background()
	admin, err := policy.NewAdmin(ctx, st.Policies())
	if err != nil {
		t.Fatal(err)
	}
	_ = admin.SetRoles("mia", []string{"member"})
	_ = admin.BindGroup("max", "eng", "")
	cs, _ := policy.NewConditions()
	e, err := policy.NewEngine(ctx, cs, st.ToolRules(), admin)
	if err != nil {
		t.Fatal(err)
	}
	call := policy.Request{Connector: "github", Kind: policy.KindTool, Name: "create_issue", Action: policy.ActCall, Args: map[string]any{"repo": "acme/api"}}
	if d := e.Decide("mia", call); d.Effect != policy.EffectDeny {
		t.Fatalf("before any rule: %+v", d)
	}
	if err := e.Put(ctx, policy.Rule{ID: "members-acme", Subject: "role:member", Connector: "github", Kind: policy.KindTool, Name: "create_issue",
		Actions: []string{policy.ActCall}, Effect: policy.EffectAllow, Condition: `args.repo.glob("acme/*")`}); err != nil {
		t.Fatal(err)
	}
	if d := e.Decide("mia", call); d.Effect != policy.EffectAllow || d.Rule.ID != "members-acme" {
		t.Errorf("a new rule applies to the next decision: %+v", d)
	}
	if d := e.Decide("max", call); d.Effect != policy.EffectDeny {
		t.Errorf("max is not a member: %+v", d)
	}
	if err := e.Put(ctx, policy.Rule{ID: "eng", Subject: "group:eng", Connector: "*", Kind: policy.KindTool, Name: "*", Actions: []string{policy.ActList, policy.ActCall}, Effect: policy.EffectAllow}); err != nil {
		t.Fatal(err)
	}
	if d := e.Decide("max", call); d.Effect != policy.EffectAllow {
		t.Errorf("a group grant: %+v", d)
	}
	t.Run("a bad import changes nothing and names the rule", func(t *testing.T) {
		err := e.Import(ctx, []policy.Rule{
			{ID: "ok", Subject: "*", Connector: "*", Kind: policy.KindTool, Name: "*", Actions: []string{policy.ActList}, Effect: policy.EffectAllow},
			{ID: "typo", Subject: "role:member", Connector: "github", Kind: policy.KindTool, Name: "x", Actions: []string{policy.ActCall}, Effect: policy.EffectAllow, Condition: "args.repo.glob("},
		})
		var ce *policy.ConditionError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "rule 1 (typo)") {
			t.Fatalf("err %v", err)
		}
		if n := len(e.Rules()); n != 2 {
			t.Errorf("%d rules after a refused import", n)
		}
	})
	t.Run("every change makes a new policy version", func(t *testing.T) {
		before := e.Decide("mia", call).Version
		if before == 0 {
			t.Fatalf("version 0 from an engine")
		}
		r := policy.Rule{ID: "unrelated", Subject: "user:zed", Connector: "jira", Kind: policy.KindTool, Name: "*", Actions: []string{policy.ActCall}, Effect: policy.EffectAllow}
		if err := e.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
		afterPut := e.Decide("mia", call).Version
		if err := e.Delete(ctx, "unrelated"); err != nil {
			t.Fatal(err)
		}
		afterDelete := e.Decide("mia", call).Version
		if !(before < afterPut && afterPut < afterDelete) {
			t.Errorf("versions %d, %d, %d: want growing", before, afterPut, afterDelete)
		}
	})
	t.Run("a bad id is named", func(t *testing.T) {
		var re *policy.RuleError
		if err := e.Put(ctx, policy.Rule{ID: "has space"}); !errors.As(err, &re) || re.Field != "id" {
			t.Errorf("err %v", err)
		}
	})
	st.Close()

	st2 := openStore(t, dir)
	defer st2.Close()
	admin2, _ := policy.NewAdmin(ctx, st2.Policies())
	e2, err := policy.NewEngine(ctx, cs, st2.ToolRules(), admin2)
	if err != nil {
		t.Fatal(err)
	}
	if d := e2.Decide("mia", call); d.Effect != policy.EffectAllow {
		t.Errorf("rules after a restart: %+v", d)
	}
	if err := e2.Delete(ctx, "members-acme"); err != nil {
		t.Fatal(err)
	}
	if d := e2.Decide("mia", call); d.Effect != policy.EffectDeny {
		t.Errorf("after delete: %+v", d)
	}
	if err := e2.Import(ctx, nil); err != nil || len(e2.Rules()) != 0 {
		t.Errorf("empty import: %v %d", err, len(e2.Rules()))
	}
}

func TestEngineDefaultsSeedAndCallerRoles(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "data"))
	defer st.Close()
	ctx := context.Background()
	admin, err := policy.NewAdmin(ctx, st.Policies())
	if err != nil {
		t.Fatal(err)
	}
	_ = admin.SetRoles("ada", []string{"admin"})
	_ = admin.SetRoles("mia", []string{"member"})
	cs, _ := policy.NewConditions()
	e, err := policy.NewEngine(ctx, cs, st.ToolRules(), admin)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.Seed(ctx, policy.DefaultRules()); err != nil || n != 2 {
		t.Fatalf("seed defaults: %d %v", n, err)
	}
	call := policy.Request{Connector: "any", Kind: policy.KindResource, Name: "file:///x/y", Action: policy.ActRead}
	tests := []struct {
		name  string
		user  string
		roles []string
		want  string
	}{
		{"an admin bound in the store uses everything", "ada", nil, policy.EffectAllow},
		{"a member is granted nothing by default", "mia", nil, policy.EffectDeny},
		{"roles the caller holds besides the store's count (the bootstrap owner)", "owner", []string{"owner"}, policy.EffectAllow},
		{"an anonymous caller with the admin role", "local", []string{"admin"}, policy.EffectAllow},
		{"an unknown caller gets nothing", "nobody", nil, policy.EffectDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := e.DecideAs(tt.user, tt.roles, call); d.Effect != tt.want {
				t.Errorf("%+v, want %s", d, tt.want)
			}
		})
	}
	// An admin edits a default rule; seeding again keeps the edit.
	edited := policy.DefaultRules()[1]
	edited.Actions = []string{policy.ActList}
	if err := e.Put(ctx, edited); err != nil {
		t.Fatal(err)
	}
	if n, err := e.Seed(ctx, policy.DefaultRules()); err != nil || n != 0 {
		t.Errorf("seeding again added %d (%v)", n, err)
	}
	if d := e.DecideAs("ada", nil, call); d.Effect != policy.EffectDeny {
		t.Errorf("the admin's edit was overwritten: %+v", d)
	}
	if _, err := e.Seed(ctx, []policy.Rule{{ID: "bad", Subject: "nobody"}}); err == nil || !strings.Contains(err.Error(), `seed rule "bad"`) {
		t.Errorf("a bad seed rule: %v", err)
	}
}

// BenchmarkEngineDecideAs: a whole decision as the gateway makes it per
// request — the caller's subjects from the role graph (cached per user)
// plus the indexed rules — with 1 000 rules over 50 roles.
func BenchmarkEngineDecideAs(b *testing.B) {
	st := openStore(b, filepath.Join(b.TempDir(), "data"))
	defer st.Close()
	ctx := context.Background()
	admin, err := policy.NewAdmin(ctx, st.Policies())
	if err != nil {
		b.Fatal(err)
	}
	rules := make([]policy.Rule, 0, 1000)
	for i := range 1000 {
		role := fmt.Sprintf("r%02d", i%50)
		rules = append(rules, policy.Rule{ID: fmt.Sprintf("rule%04d", i), Subject: "role:" + role, Connector: fmt.Sprintf("c%d", i%20),
			Kind: policy.KindTool, Name: "*", Actions: []string{policy.ActCall}, Effect: policy.EffectAllow})
	}
	for i := range 50 {
		if err := admin.DefineRole(fmt.Sprintf("r%02d", i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := admin.SetRoles("mia", []string{"r01", "r02", "member"}); err != nil {
		b.Fatal(err)
	}
	if err := admin.SetGroup("eng", []string{"mia"}, []string{"r03"}); err != nil {
		b.Fatal(err)
	}
	cs, _ := policy.NewConditions()
	e, err := policy.NewEngine(ctx, cs, st.ToolRules(), admin)
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Import(ctx, rules); err != nil {
		b.Fatal(err)
	}
	req := policy.Request{Connector: "c3", Kind: policy.KindTool, Name: "x", Action: policy.ActCall}
	b.ReportAllocs()
	for b.Loop() {
		if d := e.DecideAs("mia", []string{"member"}, req); d.Effect != policy.EffectAllow {
			b.Fatal(d)
		}
	}
}

// A require-approval rule stored before rules had an approver is read as
// approver admin: nobody's own elicitation answer approves its calls.
func TestEngineStoredApprovalRuleWithoutApproverIsAdmin(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "data"))
	defer st.Close()
	ctx := context.Background()
	old := policy.Rule{ID: "hold", Subject: "*", Connector: "db", Kind: policy.KindTool, Name: "drop", Actions: []string{policy.ActCall}, Effect: policy.EffectRequireApproval}
	if err := st.ToolRules().Put(ctx, old); err != nil {
		t.Fatal(err)
	}
	admin, _ := policy.NewAdmin(ctx, st.Policies())
	cs, _ := policy.NewConditions()
	e, err := policy.NewEngine(ctx, cs, st.ToolRules(), admin)
	if err != nil {
		t.Fatal(err)
	}
	d := e.Decide("ann", policy.Request{Connector: "db", Kind: policy.KindTool, Name: "drop", Action: policy.ActCall})
	if d.Effect != policy.EffectRequireApproval || d.Rule.Approver != policy.ApproverAdmin {
		t.Errorf("decision %+v (approver %q)", d, d.Rule.Approver)
	}
	if rules := e.Rules(); len(rules) != 1 || rules[0].Approver != policy.ApproverAdmin {
		t.Errorf("rules %+v", rules)
	}
}
