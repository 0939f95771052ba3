package metrics

import (
	"sort"
	"strings"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
)

// toolLabels returns the tool label values of gatehouse_tool_calls_total
// for connector, sorted.
func toolLabels(t *testing.T, m *Metrics, connector string) []string {
	t.Helper()
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range families {
		if f.GetName() != "gatehouse_tool_calls_total" {
			continue
		}
		for _, metric := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range metric.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["connector"] == connector {
				out = append(out, labels["tool"])
			}
		}
	}
	sort.Strings(out)
	return out
}

func call(connector, tool string, unlisted, sensitive bool) *audit.Entry {
	e := &audit.Entry{Action: audit.ActionToolCall, Connector: connector, Tool: tool, Outcome: audit.OutcomeSuccess, Sensitive: sensitive}
	if unlisted {
		e.Details = map[string]any{DetailUnlisted: true}
	}
	return e
}

func TestToolLabelsAreBounded(t *testing.T) {
	tests := []struct {
		name  string
		calls []*audit.Entry
		want  string // the connector "c"'s tool labels, comma-joined
	}{
		{"listed tools are labelled by name", []*audit.Entry{call("c", "a", false, false), call("c", "b", false, false)}, "a,b"},
		{"tools never listed share one label", []*audit.Entry{call("c", "a", false, false), call("c", strings.Repeat("x", 1<<16), true, false), call("c", "y", true, false)}, "_unlisted,a"},
		{"tools beyond the per-connector bound share one label", []*audit.Entry{call("c", "a", false, false), call("c", "b", false, false), call("c", "c", false, false), call("c", "d", false, false), call("c", "a", false, false)}, "_other,a,b"},
		{"another connector's tools do not use up the bound", []*audit.Entry{call("d", "a", false, false), call("d", "b", false, false), call("c", "x", false, false)}, "x"},
		{"a sensitive connector's tools are never named", []*audit.Entry{call("c", "a", false, true)}, audit.Redacted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New(Options{ToolLabelsPerConnector: 2})
			for _, e := range tc.calls {
				m.Observe(e)
			}
			if got := strings.Join(toolLabels(t, m, "c"), ","); got != tc.want {
				t.Errorf("labels %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("the default bound applies when none is given", func(t *testing.T) {
		m := New(Options{})
		for i := range DefaultToolLabelsPerConnector + 10 {
			m.Observe(call("c", strings.Repeat("t", i+1), false, false))
		}
		if n := len(toolLabels(t, m, "c")); n != DefaultToolLabelsPerConnector+1 {
			t.Errorf("%d labels, want %d and _other", n, DefaultToolLabelsPerConnector)
		}
	})
}
