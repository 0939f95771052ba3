package admin

import (
	"context"
	"net/http"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
)

func TestAnalytics(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	add := func(conn, tool, outcome string, ms float64, guards ...audit.Verdict) {
		t.Helper()
		if err := f.audit.Append(ctx, &audit.Entry{Actor: "mia", Action: audit.ActionToolCall, Connector: conn, Tool: tool,
			Outcome: outcome, LatencyMS: ms, Guards: guards}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 100; i++ {
		outcome := audit.OutcomeSuccess
		if i%10 == 0 {
			outcome = audit.OutcomeError
		}
		add("github", "search", outcome, float64(i))
	}
	add("github", "create_issue", audit.OutcomeSuccess, 7, audit.Verdict{Guard: "tool-call", Verdict: "flag"})
	add("files", "read", audit.OutcomeDenied, 1)
	code, out, _ := f.do(t, auditor, http.MethodGet, "/analytics?from=1h", "")
	if code != 200 {
		t.Fatalf("HTTP %d %v", code, out)
	}
	conns := out["connectors"].([]any)
	if len(conns) != 2 {
		t.Fatalf("connectors %v", conns)
	}
	gh := conns[1].(map[string]any)
	if gh["connector"] != "github" || gh["calls"] != float64(101) || gh["errors"] != float64(10) {
		t.Errorf("github %v", gh)
	}
	tools := gh["tools"].([]any)
	search := tools[1].(map[string]any)
	lat := search["latency_ms"].(map[string]any)
	if search["tool"] != "search" || search["error_rate"] != 0.1 || lat["p50"] != float64(50) || lat["p95"] != float64(95) || lat["p99"] != float64(99) || lat["max"] != float64(100) {
		t.Errorf("search %v", search)
	}
	if v := tools[0].(map[string]any)["guard_verdicts"].(map[string]any); v["flag"] != float64(1) {
		t.Errorf("verdicts %v", v)
	}
	if files := conns[0].(map[string]any); files["denied"] != float64(1) {
		t.Errorf("files %v", files)
	}
	if total := out["total"].(map[string]any); total["calls"] != float64(102) {
		t.Errorf("total %v", total)
	}
	code, out, _ = f.do(t, auditor, http.MethodGet, "/analytics?connector=files", "")
	if code != 200 || len(out["connectors"].([]any)) != 1 {
		t.Errorf("filtered: HTTP %d %v", code, out)
	}
	if code, _, _ := f.do(t, member, http.MethodGet, "/analytics", ""); code != 403 {
		t.Errorf("member: HTTP %d", code)
	}
}
