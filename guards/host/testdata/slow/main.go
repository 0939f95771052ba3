// Command slow is a well-behaved but slow guard: each call spins for the
// number of rounds its output text gives, then allows (the guest's clock
// is the host's fake one, so the work is counted, not timed).
package main

import (
	"strconv"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

var sink int

func init() {
	guard.Register(guard.Hooks{
		ToolCall: func(in *guard.Input) guard.Verdict {
			n := 0
			if in.Output != nil {
				n, _ = strconv.Atoi(in.Output.Text)
			}
			for i := range n {
				sink += i ^ sink
			}
			return guard.Allow()
		},
	})
}

func main() {}
