// Command request is a guard with the pre-call hook (ABI 1.2), written
// with the SDK: it blocks a request whose arguments pipe into a shell and
// flags one that names /etc/passwd; its answer hook allows everything.
package main

import (
	"bytes"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

func init() {
	guard.Register(guard.Hooks{
		ToolCall: func(*guard.Input) guard.Verdict { return guard.Allow() },
		ToolRequest: func(in *guard.Input) guard.Verdict {
			if in.Output != nil {
				return guard.Block(1, guard.Reason{Code: "output-in-request", Message: "a request envelope carried an output"})
			}
			switch {
			case bytes.Contains(in.Arguments, []byte("| sh")):
				return guard.Block(0.95, guard.Reason{Code: "pipe-to-shell", Message: "an argument pipes into a shell", Path: "/arguments"})
			case bytes.Contains(in.Arguments, []byte("/etc/passwd")):
				return guard.Flag(0.4, guard.Reason{Code: "passwd", Message: "an argument names /etc/passwd", Path: "/arguments"})
			}
			return guard.Allow()
		},
	})
}

func main() {}
