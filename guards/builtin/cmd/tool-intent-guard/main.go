//go:build wasip1

// Command tool-intent-guard is the built-in Tool Intent Guard: the rules of
// guards/builtin/rules behind the ABI v1 exports of sdk/guard.
package main

import (
	"github.com/gatehouse-mcp/gatehouse/guards/builtin/rules"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

func init() { guard.Register(guard.Hooks{ToolIntent: rules.NewPurposes().ToolIntent}) }

func main() {}
