package policy

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func mustIndex(t testing.TB, rules ...Rule) *Index {
	t.Helper()
	cs, err := NewConditions()
	if err != nil {
		t.Fatal(err)
	}
	idx, err := NewIndex(cs, rules)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func TestDecide(t *testing.T) {
	idx := mustIndex(t,
		Rule{ID: "admins", Subject: "role:admin", Connector: "*", Kind: KindTool, Name: "*", Actions: []string{ActList, ActCall}, Effect: EffectAllow},
		Rule{ID: "eng-github", Subject: "group:eng", Connector: "github", Kind: KindTool, Name: "*", Actions: []string{ActList, ActCall}, Effect: EffectAllow},
		Rule{ID: "no-delete", Subject: "*", Connector: "github", Kind: KindTool, Name: "delete_*", Actions: []string{ActCall}, Effect: EffectDeny, Description: "deletions go through change control"},
		Rule{ID: "acme-only", Subject: "role:contractor", Connector: "github", Kind: KindTool, Name: "create_issue", Actions: []string{ActCall}, Effect: EffectAllow, Condition: `args.repo.glob("acme/*")`},
		Rule{ID: "files-read", Subject: "user:mia", Connector: "files", Kind: KindTool, Name: "read_file", Actions: []string{ActCall}, Effect: EffectAllow, Condition: `args.path.under("/srv/data")`},
		Rule{ID: "payments-approval", Subject: "role:finance", Connector: "stripe", Kind: KindTool, Name: "create_refund", Actions: []string{ActCall}, Effect: EffectRequireApproval},
		Rule{ID: "finance-stripe", Subject: "role:finance", Connector: "stripe", Kind: KindTool, Name: "*", Actions: []string{ActList, ActCall}, Effect: EffectAllow},
		Rule{ID: "prompts", Subject: "*", Connector: "*", Kind: KindPrompt, Name: "*", Actions: []string{ActList, ActRead}, Effect: EffectAllow},
		Rule{ID: "docs-all", Subject: "role:writer", Connector: "docs", Kind: KindAny, Name: "*", Actions: []string{ActList, ActRead}, Effect: EffectAllow},
		Rule{ID: "docs-pub", Subject: "role:reader", Connector: "docs", Kind: KindResource, Name: "file:///pub/*", Actions: []string{ActRead}, Effect: EffectAllow},
	)
	tests := []struct {
		name     string
		req      Request
		want     string
		rule     string
		reasonIn string
	}{
		{"an admin calls anything", Request{Subjects: []string{"user:ada", "role:admin"}, Connector: "jira", Kind: KindTool, Name: "x", Action: ActCall}, EffectAllow, "admins", ""},
		{"deny beats the admin's allow", Request{Subjects: []string{"user:ada", "role:admin"}, Connector: "github", Kind: KindTool, Name: "delete_repo", Action: ActCall}, EffectDeny, "no-delete", "change control"},
		{"a group grant through membership", Request{Subjects: []string{"user:max", "group:eng", "role:member"}, Connector: "github", Kind: KindTool, Name: "list_issues", Action: ActList}, EffectAllow, "eng-github", ""},
		{"nothing granted is denied", Request{Subjects: []string{"user:max", "role:member"}, Connector: "github", Kind: KindTool, Name: "list_issues", Action: ActList}, EffectDeny, "", "no rule allows"},
		{"a condition that holds allows", Request{Subjects: []string{"role:contractor"}, Connector: "github", Kind: KindTool, Name: "create_issue", Action: ActCall, Args: map[string]any{"repo": "acme/api"}}, EffectAllow, "acme-only", ""},
		{"a condition that fails denies, saying which", Request{Subjects: []string{"role:contractor"}, Connector: "github", Kind: KindTool, Name: "create_issue", Action: ActCall, Args: map[string]any{"repo": "other/api"}}, EffectDeny, "acme-only", `args.repo.glob("acme/*")`},
		{"a missing argument fails the condition", Request{Subjects: []string{"role:contractor"}, Connector: "github", Kind: KindTool, Name: "create_issue", Action: ActCall, Args: map[string]any{}}, EffectDeny, "acme-only", "allowed only when the condition of rule acme-only holds"},
		{"a path traversal fails under()", Request{Subjects: []string{"user:mia"}, Connector: "files", Kind: KindTool, Name: "read_file", Action: ActCall, Args: map[string]any{"path": "/srv/data/../../etc/shadow"}}, EffectDeny, "files-read", "condition"},
		{"skip-validation disables conditions (and what they allowed)", Request{Subjects: []string{"user:mia"}, Connector: "files", Kind: KindTool, Name: "read_file", Action: ActCall, Args: map[string]any{"path": "/srv/data/x"}, SkipConditions: true}, EffectDeny, "", "no rule allows"},
		{"require-approval beats allow", Request{Subjects: []string{"role:finance"}, Connector: "stripe", Kind: KindTool, Name: "create_refund", Action: ActCall}, EffectRequireApproval, "payments-approval", "approval"},
		{"the rest of stripe is allowed", Request{Subjects: []string{"role:finance"}, Connector: "stripe", Kind: KindTool, Name: "list_charges", Action: ActCall}, EffectAllow, "finance-stripe", ""},
		{"the kind must match", Request{Subjects: []string{"user:x"}, Connector: "jira", Kind: KindTool, Name: "p", Action: ActList}, EffectDeny, "", ""},
		{"everyone reads prompts", Request{Subjects: []string{"user:x"}, Connector: "jira", Kind: KindPrompt, Name: "p", Action: ActRead}, EffectAllow, "prompts", ""},
		{"list is not call", Request{Subjects: []string{"user:x"}, Connector: "jira", Kind: KindPrompt, Name: "p", Action: ActCall}, EffectDeny, "", ""},
		{"kind * covers resources", Request{Subjects: []string{"role:writer"}, Connector: "docs", Kind: KindResource, Name: "file:///a/b/c", Action: ActRead}, EffectAllow, "docs-all", ""},
		{"kind * covers tools", Request{Subjects: []string{"role:writer"}, Connector: "docs", Kind: KindTool, Name: "t", Action: ActList}, EffectAllow, "docs-all", ""},
		{"name * alone crosses slashes, other globs do not", Request{Subjects: []string{"role:reader"}, Connector: "docs", Kind: KindResource, Name: "file:///pub/a/b", Action: ActRead}, EffectDeny, "", ""},
		{"a glob within one path segment", Request{Subjects: []string{"role:reader"}, Connector: "docs", Kind: KindResource, Name: "file:///pub/a", Action: ActRead}, EffectAllow, "docs-pub", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := idx.Decide(tc.req)
			rule := ""
			if d.Rule != nil {
				rule = d.Rule.ID
			}
			if d.Effect != tc.want || rule != tc.rule || !strings.Contains(d.Reason, tc.reasonIn) {
				t.Errorf("got %s by %q (%s), want %s by %q containing %q", d.Effect, rule, d.Reason, tc.want, tc.rule, tc.reasonIn)
			}
		})
	}
}

func TestRuleValidation(t *testing.T) {
	cs, _ := NewConditions()
	ok := Rule{ID: "r", Subject: "role:x", Connector: "github", Kind: KindTool, Name: "*", Actions: []string{ActCall}, Effect: EffectAllow}
	tests := []struct {
		name  string
		edit  func(*Rule)
		field string
	}{
		{"a bad subject", func(r *Rule) { r.Subject = "team:x" }, "subject"},
		{"a bad connector", func(r *Rule) { r.Connector = "Git Hub" }, "connector"},
		{"an unknown kind", func(r *Rule) { r.Kind = "widget" }, "kind"},
		{"no name", func(r *Rule) { r.Name = "" }, "name"},
		{"a broken glob", func(r *Rule) { r.Name = "[" }, "name"},
		{"no actions", func(r *Rule) { r.Actions = nil }, "actions"},
		{"an unknown action", func(r *Rule) { r.Actions = []string{"delete"} }, "actions"},
		{"an unknown effect", func(r *Rule) { r.Effect = "maybe" }, "effect"},
		{"approval without call", func(r *Rule) { r.Effect, r.Actions = EffectRequireApproval, []string{ActList} }, "effect"},
		{"a condition on every connector", func(r *Rule) { r.Connector, r.Condition = "*", "args.x == 1" }, "condition"},
		{"a condition on a listing", func(r *Rule) { r.Actions, r.Condition = []string{ActList, ActCall}, "args.x == 1" }, "condition"},
		{"a condition typo", func(r *Rule) { r.Condition = `args.repo.globs("x")` }, "condition"},
		{"an approver on an allow rule", func(r *Rule) { r.Approver = ApproverAdmin }, "approver"},
		{"an unknown approver", func(r *Rule) { r.Effect, r.Approver = EffectRequireApproval, "anyone" }, "approver"},
		{"a role approver without a name", func(r *Rule) { r.Effect, r.Approver = EffectRequireApproval, "role:" }, "approver"},
		{"a role approver with a bad name", func(r *Rule) { r.Effect, r.Approver = EffectRequireApproval, "role:two words" }, "approver"},
		{"a group is no approver", func(r *Rule) { r.Effect, r.Approver = EffectRequireApproval, "group:eng" }, "approver"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			r.Actions = append([]string(nil), ok.Actions...)
			tc.edit(&r)
			err := r.Validate(cs)
			var re *RuleError
			if !errors.As(err, &re) || re.Field != tc.field {
				t.Fatalf("err %v, want field %s", err, tc.field)
			}
		})
	}
	t.Run("a require-approval rule's approver defaults to admin, and each kind validates", func(t *testing.T) {
		for _, tc := range []struct{ in, want string }{{"", ApproverAdmin}, {"caller", ApproverCaller}, {"admin", ApproverAdmin}, {"role:finance", "role:finance"}} {
			r := ok
			r.Effect, r.Approver = EffectRequireApproval, tc.in
			if err := r.Validate(cs); err != nil || r.Approver != tc.want {
				t.Errorf("approver %q: %v, approver %q, want %q", tc.in, err, r.Approver, tc.want)
			}
		}
		r := ok
		if err := r.Validate(cs); err != nil || r.Approver != "" {
			t.Errorf("an allow rule: %v, approver %q", err, r.Approver)
		}
	})
	t.Run("a condition typo carries its position", func(t *testing.T) {
		r := ok
		r.Condition = "args.repo == \"x\" && arg.limit < 3"
		err := r.Validate(cs)
		var ce *ConditionError
		if !errors.As(err, &ce) || ce.Line != 1 || ce.Column != 21 {
			t.Fatalf("err %v (%+v)", err, ce)
		}
	})
	t.Run("an index names the bad rule", func(t *testing.T) {
		bad := ok
		bad.ID, bad.Effect = "second", "maybe"
		_, err := NewIndex(cs, []Rule{ok, bad})
		if err == nil || !strings.Contains(err.Error(), "rule 1 (second): effect") {
			t.Errorf("err %v", err)
		}
	})
}

func TestMayApprove(t *testing.T) {
	tests := []struct {
		name     string
		approver string
		roles    []string
		want     bool
	}{
		{"an admin approves for admin", ApproverAdmin, []string{"admin"}, true},
		{"an owner approves for admin", ApproverAdmin, []string{"member", "owner"}, true},
		{"a member does not approve for admin", ApproverAdmin, []string{"member"}, false},
		{"an auditor does not approve for admin", ApproverAdmin, []string{"auditor"}, false},
		{"no roles approve nothing", ApproverAdmin, nil, false},
		{"the named role approves for role:finance", "role:finance", []string{"member", "finance"}, true},
		{"an admin does not approve for role:finance", "role:finance", []string{"admin"}, false},
		{"an owner does not approve for role:finance", "role:finance", []string{"owner"}, false},
		{"a role with the name as prefix does not approve", "role:finance", []string{"finance-ro"}, false},
		{"admins still decide for caller rules through the admin API", ApproverCaller, []string{"admin"}, true},
		{"a member does not decide others' caller rules", ApproverCaller, []string{"member"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := MayApprove(tc.approver, tc.roles); got != tc.want {
				t.Errorf("MayApprove(%q, %v) = %v", tc.approver, tc.roles, got)
			}
		})
	}
}

// BenchmarkDecide: decision cost with 10, 1 000 and 100 000 rules over
// 1 000 connectors and 50 roles, with and without a condition on the
// deciding rule. The index keeps it flat: a decision looks only at the
// caller's subjects on one connector (and "*").
func BenchmarkDecide(b *testing.B) {
	for _, n := range []int{10, 1000, 100000} {
		for _, cond := range []bool{false, true} {
			rules := make([]Rule, 0, n+1)
			for i := 0; i < n; i++ {
				rules = append(rules, Rule{ID: fmt.Sprint(i), Subject: fmt.Sprintf("role:r%d", i%50), Connector: fmt.Sprintf("c%d", i%1000),
					Kind: KindTool, Name: fmt.Sprintf("tool_%d_*", i%97), Actions: []string{ActCall}, Effect: EffectAllow})
			}
			target := Rule{ID: "target", Subject: "role:r7", Connector: "github", Kind: KindTool, Name: "create_issue", Actions: []string{ActCall}, Effect: EffectAllow}
			if cond {
				target.Condition = `args.repo.glob("acme/*") && args.limit <= 100`
			}
			rules = append(rules, target)
			idx := mustIndex(b, rules...)
			subjects := []string{"user:mia", "group:eng"}
			for r := 0; r < 50; r++ {
				subjects = append(subjects, fmt.Sprintf("role:r%d", r))
			}
			req := Request{Subjects: subjects, Connector: "github", Kind: KindTool, Name: "create_issue", Action: ActCall,
				Args: map[string]any{"repo": "acme/api", "limit": 5}}
			b.Run(fmt.Sprintf("rules=%d/condition=%v", n, cond), func(b *testing.B) {
				for b.Loop() {
					if d := idx.Decide(req); d.Effect != EffectAllow {
						b.Fatal(d)
					}
				}
			})
		}
	}
}

func TestGrants(t *testing.T) {
	idx := mustIndex(t,
		Rule{ID: "a", Subject: "role:eng", Connector: "github", Kind: KindTool, Name: "list_*", Actions: []string{ActList}, Effect: EffectAllow},
		Rule{ID: "b", Subject: "user:ann", Connector: "stripe", Kind: KindTool, Name: "refund", Actions: []string{ActCall}, Effect: EffectRequireApproval},
		Rule{ID: "c", Subject: "user:bob", Connector: "jira", Kind: KindTool, Name: "*", Actions: []string{ActCall}, Effect: EffectDeny},
		Rule{ID: "d", Subject: "*", Connector: "*", Kind: KindPrompt, Name: "help", Actions: []string{ActRead}, Effect: EffectAllow},
		Rule{ID: "e", Subject: "role:ops", Connector: "*", Kind: KindAny, Name: "*", Actions: []string{ActList}, Effect: EffectAllow},
	)
	tests := []struct {
		name      string
		subjects  []string
		connector string
		want      bool
	}{
		{"one allow on the connector is enough", []string{"user:x", "role:eng"}, "github", true},
		{"a require-approval rule makes it usable", []string{"user:ann"}, "stripe", true},
		{"a rule for everyone on every connector", []string{"user:nobody"}, "vault", true},
		{"a wildcard-connector grant", []string{"role:ops"}, "anything", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := idx.Grants(tt.subjects, tt.connector); got != tt.want {
				t.Errorf("Grants = %v, want %v", got, tt.want)
			}
		})
	}
	narrow := mustIndex(t,
		Rule{ID: "a", Subject: "role:eng", Connector: "github", Kind: KindTool, Name: "*", Actions: []string{ActCall}, Effect: EffectAllow},
		Rule{ID: "c", Subject: "user:bob", Connector: "jira", Kind: KindTool, Name: "*", Actions: []string{ActCall}, Effect: EffectDeny},
	)
	for _, tt := range []struct {
		name      string
		subjects  []string
		connector string
	}{
		{"no rule for the subject", []string{"user:x", "role:member"}, "github"},
		{"a grant on another connector", []string{"role:eng"}, "jira"},
		{"only a deny", []string{"user:bob"}, "jira"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if narrow.Grants(tt.subjects, tt.connector) {
				t.Error("Grants = true, want false")
			}
		})
	}
}
