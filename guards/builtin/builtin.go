// Package builtin ships the built-in guards: their detection rules
// (rules/), the guest programs that wrap them (cmd/), and the compiled
// modules embedded here (wasm/, built by `make guards`).
package builtin

import (
	"embed"
	"fmt"
)

//go:embed wasm
var compiled embed.FS

// Names of the built-in guards, in their default chain order.
var Names = []string{"tool-list-guard", "tool-call-guard", "tool-intent-guard"}

// Module returns the compiled module of the built-in guard name. A binary
// built without `make guards` has none, and says so.
func Module(name string) ([]byte, error) {
	data, err := compiled.ReadFile("wasm/" + name + ".wasm")
	if err != nil {
		return nil, fmt.Errorf("built-in guard %s is not in this binary (build with `make build`, which compiles the guards): %w", name, err)
	}
	return data, nil
}
