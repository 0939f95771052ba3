package builtin

import (
	"github.com/gatehouse-mcp/gatehouse/guards/builtin/rules"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// Native returns the rules of the built-in guard name compiled into the
// host (the code its WebAssembly module runs), for the host's prefilter:
// a native clean allow lets the host skip the guest, which stays
// authoritative for every other verdict. Nil for an unknown name. Each
// call has its own memo of tools' declared purposes (rules.Purposes).
func Native(name string) func(hook string, in *guard.Input) guard.Verdict {
	var fn func(*guard.Input) guard.Verdict
	var hook string
	switch name {
	case "tool-list-guard":
		fn, hook = rules.ToolList, guard.HookToolList
	case "tool-call-guard":
		fn, hook = rules.NewPurposes().ToolCall, guard.HookToolCall
	case "tool-intent-guard":
		fn, hook = rules.NewPurposes().ToolIntent, guard.HookToolIntent
	default:
		return nil
	}
	return func(h string, in *guard.Input) guard.Verdict {
		if h != hook {
			return guard.Allow()
		}
		return fn(in)
	}
}
