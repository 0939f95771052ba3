package toolguard

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/guards/host"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// The native prefilter skips the guest only on a clean allow; on any
// finding, a panic, or an input the round trip would change, the guest
// runs and its verdict is what applies (here the guest disagrees with the
// native pass on purpose, so the test shows which one decided).
func TestNativePrefilter(t *testing.T) {
	clean := func(string, *guard.Input) guard.Verdict { return guard.Allow() }
	finds := func(string, *guard.Input) guard.Verdict {
		return guard.Flag(0.4, guard.Reason{Code: "n", Message: "native finding"})
	}
	scoreOnly := func(string, *guard.Input) guard.Verdict {
		return guard.Verdict{V: 1, Action: guard.ActionAllow, Score: 0.1}
	}
	panics := func(string, *guard.Input) guard.Verdict { panic("rule bug") }
	okResult := json.RawMessage(`{"content":[{"type":"text","text":"plain report"}]}`)
	for _, tc := range []struct {
		name      string
		native    func(string, *guard.Input) guard.Verdict
		args      json.RawMessage
		result    json.RawMessage
		guestRuns bool
	}{
		{"clean allow skips the guest", clean, json.RawMessage(`{"id":"1"}`), okResult, false},
		{"no native: the guest runs", nil, json.RawMessage(`{"id":"1"}`), okResult, true},
		{"a native finding runs the guest", finds, json.RawMessage(`{"id":"1"}`), okResult, true},
		{"a native score runs the guest", scoreOnly, json.RawMessage(`{"id":"1"}`), okResult, true},
		{"a native panic runs the guest", panics, json.RawMessage(`{"id":"1"}`), okResult, true},
		{"duplicate argument names run the guest", clean, json.RawMessage(`{"id":"1","id":"2"}`), okResult, true},
		{"invalid UTF-8 in arguments runs the guest", clean, json.RawMessage("{\"id\":\"\xff\"}"), okResult, true},
		{"invalid UTF-8 in content runs the guest", clean, json.RawMessage(`{"id":"1"}`), json.RawMessage("{\"content\":[{\"type\":\"text\",\"text\":\"a\xffb\"}]}"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &fake{hooks: callHooks(), v: guard.Block(0.95, guard.Reason{Code: "g", Message: "guest verdict"})}
			e := New(DefaultSettings())
			e.SetChain([]Entry{{Name: "b", Module: g, Enabled: true, Native: tc.native}})
			out, _ := e.CheckCall(context.Background(), Call{Slug: "s", Tool: guard.ToolRef{Name: "read"}, Arguments: tc.args, Result: tc.result})
			if ran := g.calls > 0; ran != tc.guestRuns {
				t.Fatalf("guest ran: %v, want %v", ran, tc.guestRuns)
			}
			want := guard.ActionAllow
			if tc.guestRuns {
				want = guard.ActionBlock
			}
			if out.Action != want {
				t.Fatalf("action %s, want %s (%+v)", out.Action, want, out)
			}
		})
	}
}

// When the guest does run after a native pass, it gets the whole
// envelope, the raw content included (decoded only then).
func TestGuestAfterNativeGetsContent(t *testing.T) {
	g := &fake{hooks: callHooks(), v: guard.Allow()}
	finds := func(string, *guard.Input) guard.Verdict { return guard.Flag(0.4, guard.Reason{Code: "n"}) }
	e := New(DefaultSettings())
	e.SetChain([]Entry{{Name: "b", Module: g, Enabled: true, Native: finds}})
	e.CheckCall(context.Background(), Call{Slug: "s", Tool: guard.ToolRef{Name: "read"}, Result: json.RawMessage(result)})
	if g.calls != 1 || g.seen.Output == nil || len(g.seen.Output.Content) == 0 || g.seen.Hook != guard.HookToolCall {
		t.Fatalf("guest saw %+v after %d calls", g.seen.Output, g.calls)
	}
}

// A guard with no free instance makes the answer "busy" (withheld with
// its own code), whatever the fail mode; a guard error still follows it.
func TestBusyIsNotAGuardFailure(t *testing.T) {
	busy := &fake{hooks: callHooks(), err: fmt.Errorf("%w: every instance stayed busy", host.ErrBusy)}
	timeout := &fake{hooks: callHooks(), err: fmt.Errorf("%w: did not return", host.ErrTimeout)}
	for _, tc := range []struct {
		name     string
		g        *fake
		fail     string
		action   string
		wantBusy bool
	}{
		{"busy fails open connector too", busy, FailOpen, guard.ActionBlock, true},
		{"busy on fail closed", busy, FailClosed, guard.ActionBlock, true},
		{"a timeout on fail open flags", timeout, FailOpen, guard.ActionFlag, false},
		{"a timeout on fail closed blocks", timeout, FailClosed, guard.ActionBlock, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSettings()
			s.FailMode = tc.fail
			e := New(s)
			e.SetChain([]Entry{{Name: "g", Module: tc.g, Enabled: true}})
			out, _ := e.CheckCall(context.Background(), Call{Slug: "s", Tool: guard.ToolRef{Name: "read"}, Result: json.RawMessage(result)})
			if out.Action != tc.action || out.Busy != tc.wantBusy {
				t.Fatalf("action %s busy %v, want %s %v", out.Action, out.Busy, tc.action, tc.wantBusy)
			}
		})
	}
}

// Both chains run natively first; only a chain that needs its guest runs
// it, and the outcome is the full chains': a block from Tool Call wins,
// an intent block alone still blocks.
func TestNativeFirstRunsOnlyTheGuestsNeeded(t *testing.T) {
	clean := func(string, *guard.Input) guard.Verdict { return guard.Allow() }
	finds := func(string, *guard.Input) guard.Verdict {
		return guard.Flag(0.4, guard.Reason{Code: "n", Message: "native"})
	}
	for _, tc := range []struct {
		name                   string
		callFinds, intentFinds bool
		blocker                string
	}{
		{"neither finds anything", false, false, ""},
		{"only the call guard finds", true, false, "call"},
		{"only the intent guard finds", false, true, "intent"},
		{"both find: the call guard's block wins", true, true, "call"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pick := func(f bool) func(string, *guard.Input) guard.Verdict {
				if f {
					return finds
				}
				return clean
			}
			call := &fake{hooks: callHooks(), v: guard.Block(0.95, guard.Reason{Code: "c", Message: "call guest"})}
			intent := &fake{hooks: map[string]bool{guard.HookToolIntent: true}, v: guard.Block(0.95, guard.Reason{Code: "i", Message: "intent guest"})}
			e := New(DefaultSettings())
			e.SetChain([]Entry{{Name: "call", Module: call, Enabled: true, Native: pick(tc.callFinds)}, {Name: "intent", Module: intent, Enabled: true, Native: pick(tc.intentFinds)}})
			out, _ := e.CheckCall(context.Background(), Call{Slug: "s", Tool: guard.ToolRef{Name: "read"}, Result: json.RawMessage(`{"content":[{"type":"text","text":"x"}]}`)})
			if out.Blocker != tc.blocker {
				t.Fatalf("blocker %q, want %q (%+v)", out.Blocker, tc.blocker, out)
			}
			if (call.calls > 0) != tc.callFinds || (intent.calls > 0) != tc.intentFinds {
				t.Fatalf("guests ran: call %d, intent %d", call.calls, intent.calls)
			}
			if tc.intentFinds && len(out.Verdicts) == 0 {
				t.Fatal("the intent verdict is missing")
			}
		})
	}
}
