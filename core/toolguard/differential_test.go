package toolguard

import (
	"context"
	"sync"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/guards/builtin/rules"
	"github.com/gatehouse-mcp/gatehouse/guards/eval"
	"github.com/gatehouse-mcp/gatehouse/guards/eval/evaltest"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// TestNativePrefilterDifferential runs every row of the labelled corpora
// (../shared/corpora and guards/eval's own cases) through the built-in
// chain twice — with the native prefilter, and with the WebAssembly
// guests alone — and requires the same action, blocker and reason codes
// on every hook the row reaches (a call row: tool_call and tool_intent,
// and tool_request on its tool and arguments alone, as before the call),
// the native rules of all of a row's hooks sharing one rules.View.
func TestNativePrefilterDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the guests on every corpus row")
	}
	rows := evaltest.Rows(t, 1000)
	withNative, guestsOnly := builtinEngine(t), builtinEngineNative(t, false)
	ctx := context.Background()
	// Two workers (the guests dominate; the engines are safe for
	// concurrent use).
	var mu sync.Mutex
	clean := 0
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := w; i < len(rows); i += 2 {
				r := rows[i]
				hook, in, err := eval.ToInput(r, 0)
				if err != nil {
					t.Errorf("row %s: %v", r.ID, err)
					return
				}
				hooks := []string{hook}
				if hook == guard.HookToolCall {
					hooks = append(hooks, guard.HookToolIntent, guard.HookToolRequest)
				}
				// One rules view for every hook of the row, as a phase shares
				// it between its guards.
				view := rules.NewView()
				for _, h := range hooks {
					a, b := *in, *in
					if h == guard.HookToolRequest {
						a.Output, b.Output = nil, nil
					}
					got := withNative.run(ctx, h, &a, "eval", lazy{view: view})
					want := guestsOnly.run(ctx, h, &b, "eval", lazy{})
					if got.Action != want.Action || got.Blocker != want.Blocker || codes(got) != codes(want) {
						t.Errorf("row %s (%s) %s: with the native prefilter %s %s [%s], guests alone %s %s [%s]",
							r.ID, r.Label, h, got.Action, got.Blocker, codes(got), want.Action, want.Blocker, codes(want))
					}
					if len(got.Verdicts) == 0 && want.Action == guard.ActionAllow {
						mu.Lock()
						clean++
						mu.Unlock()
					}
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d rows; %d hook runs ended clean", len(rows), clean)
}

func codes(o Outcome) string {
	s := ""
	for _, f := range o.Findings {
		s += f.Guard + ":" + f.Code + " "
	}
	return s
}
