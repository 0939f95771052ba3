package rules

import (
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/gatehouse-mcp/gatehouse/guards/builtin/model"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// wModel is the weight of a learned-model hit: alone it flags at the
// default threshold (0.7), with any rule of weight ≥ 0.25 it blocks.
// "Rules OR model" is the combination measured in docs/guard-eval.md.
const wModel = 0.6

// modelArgBytes is how much of one argument the command model scores:
// under wazero it costs about 90 µs per KiB (docs/guard-eval.md), and a
// shell command is rarely longer. The rules still scan MaxScan bytes.
const modelArgBytes = 4 << 10

// The embedded models, each parsed on first use (read-only afterwards),
// so a guard that never scores definitions never loads that model. A
// model that fails to load is nil and its check is skipped; the model
// package's tests require both to load.
var (
	toolModel    = sync.OnceValue(func() *model.Model { m, _ := model.Builtin(model.ToolPoisoning); return m })
	commandModel = sync.OnceValue(func() *model.Model { m, _ := model.Builtin(model.CommandInjection); return m })
)

// modelTool is the tool-poisoning model's finding for tools[i], if its
// definition scores at or above the model's threshold.
func modelTool(t guard.Tool, base string) []finding {
	m := toolModel()
	if m == nil {
		return nil
	}
	s, hit := m.Hit(model.ToolText(capText(t.Name), capText(t.Title), capText(t.Description), t.InputSchema))
	if !hit {
		return nil
	}
	return []finding{{code: "model:tool-poisoning", weight: wModel, msg: "learned model scores the definition " + strconv.FormatFloat(s, 'f', 3, 64) + " (threshold " + strconv.FormatFloat(float64(m.Threshold), 'f', 3, 64) + ")", tool: t.Name, path: base + "/description"}}
}

// modelCommand is the command-injection model's finding for one argument
// of a shell-like tool.
func modelCommand(s, path string) []finding {
	m := commandModel()
	if m == nil {
		return nil
	}
	s = capBytes(s, modelArgBytes)
	p, hit := m.Hit(s)
	if !hit {
		return nil
	}
	return []finding{{code: "command-injection:model", weight: wModel, msg: "learned model scores the argument " + strconv.FormatFloat(p, 'f', 3, 64) + " as command injection", path: path, span: spanOf(0, len(s))}}
}

// capBytes cuts s to at most n bytes at a rune boundary.
func capBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
