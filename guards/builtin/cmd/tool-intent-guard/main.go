//go:build wasip1

// Command tool-intent-guard is the built-in Tool Intent Guard: the rules of
// guards/builtin/rules behind the ABI v1 exports of sdk/guard,
// with its pre-call hook (tool_request, ABI 1.2).
package main

import (
	"github.com/gatehouse-mcp/gatehouse/guards/builtin/rules"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

func init() {
	p := rules.NewPurposes()
	guard.Register(guard.Hooks{ToolIntent: p.ToolIntent, ToolRequest: p.ToolIntentRequest})
}

func main() {}
