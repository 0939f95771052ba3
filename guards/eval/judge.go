package eval

import (
	"fmt"

	"github.com/gatehouse-mcp/gatehouse/guards/builtin/rules"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// NativeRules judges with the built-in guards' rules compiled natively
// (the same code the built-in WASM modules run).
func NativeRules(phase string, in *guard.Input) (guard.Verdict, error) {
	switch phase {
	case guard.HookToolList:
		return rules.ToolList(in), nil
	case guard.HookToolCall:
		return rules.ToolCall(in), nil
	case guard.HookToolIntent:
		return rules.ToolIntent(in), nil
	case guard.HookToolRequest:
		// Both built-in guards with the hook, as the request chain runs them.
		return Stronger(rules.ToolCallRequest(in), rules.ToolIntentRequest(in)), nil
	}
	return guard.Verdict{}, fmt.Errorf("unknown phase %q", phase)
}

// Stronger is the verdict with the stronger action (then the higher
// score): what a chain of two guards amounts to for a detection count.
func Stronger(a, b guard.Verdict) guard.Verdict {
	if guard.Rank(b.Action) > guard.Rank(a.Action) || guard.Rank(b.Action) == guard.Rank(a.Action) && b.Score > a.Score {
		return b
	}
	return a
}
