package eval

import (
	"bytes"
	"strings"
	"testing"
)

func TestMeasureConfoundsFindsAPlantedConfound(t *testing.T) {
	str := func(s string) *string { return &s }
	var rows []Row
	// Poisoned descriptions carry "Args:", benign ones do not: AUC 1.
	for i, d := range []string{"Do x. Args: a", "Do y. Args: b", "Do z. Args: c"} {
		rows = append(rows, Row{ID: "m" + string(rune('0'+i)), Label: "malicious", Split: "test", Tool: &RowTool{Name: "t", Description: d}, folder: "mcp-tools"})
	}
	for i, d := range []string{"List files.", "Read a file.", "Search."} {
		rows = append(rows, Row{ID: "b" + string(rune('0'+i)), Label: "benign", Split: "test", Tool: &RowTool{Name: "t", Description: d}, folder: "mcp-tools"})
	}
	// Command injection: every malicious row is sent behind a base
	// command, a benign one is not.
	rows = append(rows,
		Row{ID: "p1", Label: "malicious", Split: "test", Text: str("whoami"), folder: "command-injection"},
		Row{ID: "p2", Label: "malicious", Split: "test", Text: str("; id"), folder: "command-injection"},
		Row{ID: "c1", Label: "benign", Split: "test", Text: str("tar xf a.tar"), folder: "command-injection"},
		Row{ID: "c2", Label: "benign", Split: "test", Text: str("id"), folder: "command-injection"},
	)
	got := map[string]float64{}
	for _, l := range MeasureConfounds(rows) {
		if l.Split == "test" {
			got[l.Feature] = l.AUC.Value
		}
	}
	if got[`description contains "Args:"`] != 1 {
		t.Errorf("Args: AUC %v, want 1", got[`description contains "Args:"`])
	}
	if got["command sent starts with a harness base command"] != 1 {
		t.Errorf("base command AUC %v, want 1", got["command sent starts with a harness base command"])
	}
	// One of two payloads has a metacharacter, no benign row does: 0.75.
	if got["any shell metacharacter in the raw row"] != 0.75 {
		t.Errorf("metacharacter AUC %v, want 0.75", got["any shell metacharacter in the raw row"])
	}
	c := CountConfounds(rows, "")
	if c.PayloadsNoMeta != 1 || c.Payloads != 2 || c.BenignRecon != 1 {
		t.Errorf("counts %+v", c)
	}
	var buf bytes.Buffer
	WriteConfounds(&buf, MeasureConfounds(rows), c)
	if !strings.Contains(buf.String(), "1 of 2 payloads contain no shell metacharacter") {
		t.Errorf("output:\n%s", buf.String())
	}
}

func TestMaxTokenEntropy(t *testing.T) {
	if h := maxTokenEntropy("aaaaaaaa"); h != 0 {
		t.Errorf("constant token: %v", h)
	}
	if h := maxTokenEntropy("key=abcdefgh short"); h != 3 {
		t.Errorf("8 distinct chars: %v, want 3 bits", h)
	}
}
