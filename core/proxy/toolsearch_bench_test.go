package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/upstreamtest"
)

// BenchmarkSearchToolsOnTheAggregate is one search_tools on /mcp as a
// client sees it: the fan-out listing of 20 connectors (HTTP upstreams on
// loopback) through their chains (pins, policies), the index (a cache
// hit: the listings do not change) and the ranking; with 50 and with 500
// tools per connector. Beside it, the same endpoint's tools/list with
// tool search off: the listing is most of a search's cost.
func BenchmarkSearchToolsOnTheAggregate(b *testing.B) {
	for _, copies := range []int{1, 10} {
		var conns []*connector.Connector
		for slug, tools := range evalToolSet(b) {
			var all []json.RawMessage
			for i := 0; i < copies; i++ {
				for _, raw := range tools {
					var obj map[string]any
					_ = json.Unmarshal(raw, &obj)
					if i > 0 {
						obj["name"] = fmt.Sprintf("%s_%d", obj["name"], i)
					}
					def, _ := json.Marshal(obj)
					all = append(all, def)
				}
			}
			u := newToolUpstream(b, all)
			c := httpConnector(slug, u.URL)
			c.ID = "id-" + slug
			c.Normalize()
			conns = append(conns, c)
		}
		cs, _ := policy.NewConditions()
		idx, err := policy.NewIndex(cs, adaRules)
		if err != nil {
			b.Fatal(err)
		}
		for _, tc := range []struct {
			name   string
			search bool
			req    *mcp.Message
		}{
			{"search_tools", true, upstreamtest.ToolCall(b, 5, "search_tools", `{"query":"kill a long-running database connection"}`)},
			{"tools/list with tool search off", false, upstreamtest.Request(b, 5, mcp.MethodToolsList, "")},
		} {
			p := New(connector.NewRegistry(conns), nil, Options{CallTimeout: 10 * time.Second, IdleTimeout: time.Hour, AllowPrivateNetworks: true, MaxMessageBytes: 16 << 20,
				Access:     access.New(indexDecider{idx}, access.NewApprovals(time.Minute), zerolog.Nop()),
				Tools:      toolguard.NewPins(toolguard.New(toolguard.DefaultSettings()), &memPinStore{scans: map[string]toolguard.ToolScan{}}),
				ToolSearch: ToolSearch{Aggregate: tc.search}}, zerolog.Nop())
			agg, _, err := p.InitializeAggregate(context.Background(), ada, initMsg)
			if err != nil {
				b.Fatal(err)
			}
			run := func() {
				st, err := agg.Call(context.Background(), tc.req)
				if err != nil {
					b.Fatal(err)
				}
				if m, err := lastMessage(context.Background(), st); err != nil || m.Error != nil {
					b.Fatalf("%v %v", m, err)
				}
			}
			run() // opens the children and pins every definition
			b.Run(fmt.Sprintf("%s, %d tools", tc.name, 1000*copies), func(b *testing.B) {
				for b.Loop() {
					run()
				}
			})
			p.Close()
		}
	}
}
