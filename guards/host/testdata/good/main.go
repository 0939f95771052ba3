// Command good is a well-behaved guard written with the SDK.
package main

import (
	"strconv"
	"strings"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

func init() {
	guard.Register(guard.Hooks{
		ToolList: func(in *guard.Input) guard.Verdict {
			for i, t := range in.Tools {
				if j := strings.Index(t.Description, "<IMPORTANT>"); j >= 0 {
					span := [2]int{j, j + len("<IMPORTANT>")}
					return guard.Block(0.95, guard.Reason{Code: "hidden-instructions", Message: "an <IMPORTANT> block", Tool: t.Name,
						Path: "/tools/" + strconv.Itoa(i) + "/description", Span: &span})
				}
			}
			return guard.Allow()
		},
		ToolCall: func(in *guard.Input) guard.Verdict {
			if in.Output == nil {
				return guard.Allow()
			}
			if j := strings.Index(in.Output.Text, "AKIA"); j >= 0 {
				end := min(j+20, len(in.Output.Text))
				return guard.Redact(0.9, []guard.Redaction{{Path: "/output/text", Span: [2]int{j, end}}},
					guard.Reason{Code: "secret:aws-access-key", Message: "an AWS access key id"})
			}
			return guard.Allow()
		},
	})
}

func main() {}
