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
	}
	return guard.Verdict{}, fmt.Errorf("unknown phase %q", phase)
}
