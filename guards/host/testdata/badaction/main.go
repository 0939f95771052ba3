// Command badaction returns a well-formed verdict with an unknown action.
package main

import "github.com/gatehouse-mcp/gatehouse/sdk/guard"

func init() {
	guard.Register(guard.Hooks{ToolCall: func(*guard.Input) guard.Verdict {
		return guard.Verdict{V: 1, Action: "explode", Score: 0.5}
	}})
}

func main() {}
