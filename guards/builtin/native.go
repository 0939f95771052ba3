package builtin

import (
	"github.com/gatehouse-mcp/gatehouse/guards/builtin/rules"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// Native returns the rules of the built-in guard name compiled into the
// host (the code its WebAssembly module runs), for the host's prefilter:
// a native clean allow lets the host skip the guest, which stays
// authoritative for every other verdict. Nil for an unknown name. Each
// call has its own memo of tools' declared purposes (rules.Purposes),
// shared by the guard's hooks.
func Native(name string) func(hook string, in *guard.Input) guard.Verdict {
	var hooks map[string]func(*guard.Input) guard.Verdict
	switch name {
	case "tool-list-guard":
		hooks = map[string]func(*guard.Input) guard.Verdict{guard.HookToolList: rules.ToolList}
	case "tool-call-guard":
		p := rules.NewPurposes()
		hooks = map[string]func(*guard.Input) guard.Verdict{guard.HookToolCall: p.ToolCall, guard.HookToolRequest: p.ToolCallRequest}
	case "tool-intent-guard":
		p := rules.NewPurposes()
		hooks = map[string]func(*guard.Input) guard.Verdict{guard.HookToolIntent: p.ToolIntent, guard.HookToolRequest: p.ToolIntentRequest}
	default:
		return nil
	}
	return func(h string, in *guard.Input) guard.Verdict {
		if fn := hooks[h]; fn != nil {
			return fn(in)
		}
		return guard.Allow()
	}
}

// NativeIn is Native whose rules read a shared rules.View: the host makes
// one view per phase and hands it to every built-in guard of the phase,
// so the output and arguments are scanned once, not once per guard. The
// verdicts are Native's (a view only caches what the rules compute from
// the input). Nil for an unknown name.
func NativeIn(name string) func(hook string, in *guard.Input, v *rules.View) guard.Verdict {
	type hookFn = func(*rules.View, *guard.Input) guard.Verdict
	var hooks map[string]hookFn
	switch name {
	case "tool-list-guard":
		hooks = map[string]hookFn{guard.HookToolList: func(_ *rules.View, in *guard.Input) guard.Verdict { return rules.ToolList(in) }}
	case "tool-call-guard":
		p := rules.NewPurposes()
		hooks = map[string]hookFn{guard.HookToolCall: p.ToolCallIn, guard.HookToolRequest: p.ToolCallRequestIn}
	case "tool-intent-guard":
		p := rules.NewPurposes()
		hooks = map[string]hookFn{guard.HookToolIntent: p.ToolIntentIn, guard.HookToolRequest: p.ToolIntentRequestIn}
	default:
		return nil
	}
	return func(h string, in *guard.Input, v *rules.View) guard.Verdict {
		if fn := hooks[h]; fn != nil {
			return fn(v, in)
		}
		return guard.Allow()
	}
}
