//go:build wasip1

// Command tool-call-guard is the built-in Tool Call Guard: the rules of
// guards/builtin/rules behind the ABI v1 exports of sdk/guard.
package main

import (
	"github.com/gatehouse-mcp/gatehouse/guards/builtin/rules"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

func init() { guard.Register(guard.Hooks{ToolCall: rules.NewPurposes().ToolCall}) }

func main() {}
