package policy

import (
	"strings"
	"testing"
)

func TestConflicts(t *testing.T) {
	existing := []Rule{
		{ID: "no-delete", Subject: "role:member", Connector: "github", Kind: KindTool, Name: "delete_repo", Actions: []string{ActCall}, Effect: EffectDeny},
		{ID: "members-all", Subject: "role:member", Connector: "*", Kind: KindAny, Name: "*", Actions: []string{ActList, ActCall}, Effect: EffectAllow},
		{ID: "refunds", Subject: "role:finance", Connector: "stripe", Kind: KindTool, Name: "refund", Actions: []string{ActCall}, Effect: EffectRequireApproval},
	}
	tests := []struct {
		name string
		rule Rule
		want []string // parts of the warnings, in order; nil: none
	}{
		{"an allow under an existing deny: the deny wins",
			Rule{ID: "x", Subject: "role:member", Connector: "github", Kind: KindTool, Name: "delete_repo", Actions: []string{ActCall}, Effect: EffectAllow},
			[]string{"conflicts with rule no-delete (deny) for role:member on [call] of github/delete_repo: deny wins, by rule no-delete"}},
		{"a deny over a wildcard allow: the new deny wins",
			Rule{ID: "y", Subject: "role:member", Connector: "jira", Kind: KindTool, Name: "t", Actions: []string{ActCall}, Effect: EffectDeny},
			[]string{"conflicts with rule members-all (allow) for role:member on [call] of jira/t: deny wins, by rule y"}},
		{"the same grant twice",
			Rule{ID: "z", Subject: "role:finance", Connector: "stripe", Kind: KindTool, Name: "refund", Actions: []string{ActCall}, Effect: EffectRequireApproval},
			[]string{"rule refunds already require-approvals role:finance"}},
		{"another subject does not conflict",
			Rule{ID: "w", Subject: "role:admin", Connector: "github", Kind: KindTool, Name: "delete_repo", Actions: []string{ActCall}, Effect: EffectAllow}, nil},
		{"other actions do not conflict",
			Rule{ID: "v", Subject: "role:member", Connector: "github", Kind: KindTool, Name: "delete_repo", Actions: []string{ActRead}, Effect: EffectAllow}, nil},
		{"other names do not conflict",
			Rule{ID: "u", Subject: "role:finance", Connector: "stripe", Kind: KindTool, Name: "charge", Actions: []string{ActCall}, Effect: EffectAllow}, nil},
		{"a rule does not conflict with its own earlier version, nor with an allow it narrows",
			Rule{ID: "no-delete", Subject: "role:member", Connector: "github", Kind: KindTool, Name: "delete_repo", Actions: []string{ActCall}, Effect: EffectAllow}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Conflicts(tt.rule, existing)
			if len(got) != len(tt.want) {
				t.Fatalf("warnings %q, want %d like %q", got, len(tt.want), tt.want)
			}
			joined := strings.Join(got, " | ")
			for _, w := range tt.want {
				if !strings.Contains(joined, w) {
					t.Errorf("warnings %q lack %q", got, w)
				}
			}
		})
	}
}
