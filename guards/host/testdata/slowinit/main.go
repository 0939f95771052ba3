// Command slowinit refuses its configuration.
package main

import (
	"errors"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

func init() {
	guard.Register(guard.Hooks{
		Init:     func(cfg []byte) error { return errors.New("no") },
		ToolCall: func(*guard.Input) guard.Verdict { return guard.Allow() },
	})
}

func main() {}
