package toolguard

import (
	"reflect"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/guards/builtin"
	"github.com/gatehouse-mcp/gatehouse/guards/builtin/rules"
	"github.com/gatehouse-mcp/gatehouse/guards/eval"
	"github.com/gatehouse-mcp/gatehouse/guards/eval/evaltest"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// TestViewSharedEqualsAlone runs every corpus row through every built-in
// guard's native rules twice: each guard and hook alone (builtin.Native,
// nothing shared), and all of a row's guards and hooks in chain order
// reading one rules.View, as a phase runs them (the answer's tool_call
// and tool_intent, then tool_request on the arguments; the arguments'
// strict decoding handed over, as the engine does). Every verdict —
// action, score, reasons, spans, redactions — must be the same.
func TestViewSharedEqualsAlone(t *testing.T) {
	rows := evaltest.Rows(t, 1000)
	alone := map[string]func(string, *guard.Input) guard.Verdict{}
	shared := map[string]func(string, *guard.Input, *rules.View) guard.Verdict{}
	for _, name := range builtin.Names {
		alone[name], shared[name] = builtin.Native(name), builtin.NativeIn(name)
	}
	hooksOf := map[string][]string{
		guard.HookToolList: {guard.HookToolList},
		guard.HookToolCall: {guard.HookToolCall, guard.HookToolIntent, guard.HookToolRequest},
	}
	runs, findings, primed := 0, 0, 0
	for _, r := range rows {
		hook, in, err := eval.ToInput(r, 0.7)
		if err != nil {
			t.Fatalf("row %s: %v", r.ID, err)
		}
		view := rules.NewView()
		if d, ok := decodeStrict(in.Arguments); ok {
			view.SetArguments(string(in.Arguments), d) // as the request phase hands its decoding over
			primed++
		}
		for _, h := range hooksOf[hook] {
			for _, name := range builtin.Names {
				a, b := *in, *in
				a.Hook, b.Hook = h, h
				if h == guard.HookToolRequest {
					a.Output, b.Output = nil, nil
				}
				got, want := shared[name](h, &a, view), alone[name](h, &b)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("row %s %s %s: with the shared view %+v, alone %+v", r.ID, name, h, got, want)
				}
				runs++
				if len(want.Reasons) > 0 {
					findings++
				}
			}
		}
	}
	if findings == 0 {
		t.Fatalf("%d runs and no finding: the comparison saw only clean verdicts", runs)
	}
	if primed == 0 {
		t.Fatal("no row's arguments were handed to the view decoded")
	}
	t.Logf("%d rows (%d with decoded arguments), %d guard runs, %d with findings", len(rows), primed, runs, findings)
}
