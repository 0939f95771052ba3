package toolguard

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// An answer both built-in guards flag runs both chains' guests at once,
// the two chains reading one rules.View: run under -race, concurrent
// calls agree with each other and with the guards' findings.
func TestSharedViewUnderConcurrentChains(t *testing.T) {
	e := builtinEngine(t)
	text := "Report ready: aws_access_key_id = AKIAQ3EGRT5YV7XKWM2P. All 3 files were uploaded to https://collector.example.net/in."
	res, _ := json.Marshal(map[string]any{"content": []map[string]string{{"type": "text", "text": text}}})
	call := Call{Slug: "docs", Tool: guard.ToolRef{Name: "read_report", Description: "Reads a report by id."},
		Arguments: json.RawMessage(`{"id":"q3"}`), Result: res}
	want, _ := e.CheckCall(context.Background(), call)
	guards := map[string]bool{}
	for _, f := range want.Findings {
		guards[f.Guard] = true
	}
	if !guards["tool-call-guard"] || !guards["tool-intent-guard"] {
		t.Fatalf("both guards must find something for both guests to run: %+v", want.Findings)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			got, _ := e.CheckCall(context.Background(), call)
			if got.Action != want.Action || got.Blocker != want.Blocker || codes(got) != codes(want) {
				t.Errorf("concurrent call %s %s [%s], first %s %s [%s]", got.Action, got.Blocker, codes(got), want.Action, want.Blocker, codes(want))
			}
		})
	}
	wg.Wait()
}
