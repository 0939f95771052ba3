package access

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// BenchmarkAdmit: the gate's cost on one tools/call — policy decision
// (with and without a payload condition) plus JSON-Schema validation of
// the arguments — among 1 000 rules.
func BenchmarkAdmit(b *testing.B) {
	rules := make([]policy.Rule, 0, 1000)
	for i := range 998 {
		rules = append(rules, policy.Rule{ID: fmt.Sprintf("r%d", i), Subject: fmt.Sprintf("role:r%d", i%50), Connector: fmt.Sprintf("c%d", i%100),
			Kind: policy.KindTool, Name: "*", Actions: []string{"list", "call"}, Effect: "allow"})
	}
	rules = append(rules,
		policy.Rule{ID: "plain", Subject: "role:member", Connector: "github", Kind: policy.KindTool, Name: "search", Actions: []string{"call"}, Effect: "allow"},
		policy.Rule{ID: "cond", Subject: "role:member", Connector: "github", Kind: policy.KindTool, Name: "create_issue", Actions: []string{"call"}, Effect: "allow",
			Condition: `args.repo.glob("acme/*") && args.title.size() < 200`})
	cs, _ := policy.NewConditions()
	idx, err := policy.NewIndex(cs, rules)
	if err != nil {
		b.Fatal(err)
	}
	g := New(indexDecider{idx}, NewApprovals(0), zerolog.Nop())
	c := &connector.Connector{ID: "gh", Slug: "github"}
	schema := `{"type":"object","properties":{"repo":{"type":"string","pattern":"^[a-z]+/[a-z]+$"},"title":{"type":"string","maxLength":200},"labels":{"type":"array","items":{"type":"string"}}},"required":["repo","title"]}`
	list, _ := mcp.NewResult(json.RawMessage(`1`), map[string]any{"tools": []any{
		map[string]any{"name": "search", "inputSchema": json.RawMessage(schema)},
		map[string]any{"name": "create_issue", "inputSchema": json.RawMessage(schema)},
	}})
	g.FilterList(auth.Principal{System: true}, c, mcp.MethodToolsList, list)
	who := auth.Principal{User: "mia", Roles: []string{"member", "r1", "r2"}}
	for _, tool := range []string{"search", "create_issue"} {
		req, _ := mcp.NewRequest(json.RawMessage(`2`), mcp.MethodToolsCall, map[string]any{"name": tool,
			"arguments": map[string]any{"repo": "acme/api", "title": "a bug", "labels": []string{"p1", "ui"}}})
		b.Run(tool, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if adm := g.Admit(who, c, req); adm.Err != nil || adm.Unvalidated != "" {
					b.Fatal(adm.Err, adm.Unvalidated)
				}
			}
		})
	}
}
