//go:build wasip1

// Command tool-call-guard is the built-in Tool Call Guard: the rules of
// guards/builtin/rules behind the ABI v1 exports of sdk/guard,
// with its pre-call hook (tool_request, ABI 1.2).
package main

import (
	"github.com/gatehouse-mcp/gatehouse/guards/builtin/rules"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

func init() {
	p := rules.NewPurposes()
	guard.Register(guard.Hooks{ToolCall: p.ToolCall, ToolRequest: p.ToolCallRequest})
}

func main() {}
