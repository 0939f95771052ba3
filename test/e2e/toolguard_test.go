//go:build e2e

package e2e

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildPoisoned compiles the poisoned MCP server fixture (official Go SDK).
func buildPoisoned(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "poisoned")
	if out, err := exec.Command("go", "build", "-o", bin, "../fixtures/poisoned").CombinedOutput(); err != nil {
		t.Fatalf("build poisoned server: %v\n%s", err, out)
	}
	return bin
}

// TestToolGuardThroughTSClient: the built-in guards, on by default, block a
// poisoned server's injected output and redact a leaked AWS key, while a
// benign server's output passes untouched — seen by the official
// TypeScript SDK client over both client transports.
func TestToolGuardThroughTSClient(t *testing.T) {
	bin := buildPoisoned(t)
	g := startGateway(t, "")
	for _, mode := range []string{"benign", "leaky", "poisoned"} {
		g.addConnector(map[string]any{"name": "notes-" + mode, "slug": "notes-" + mode, "transport": "stdio", "command": bin, "args": []string{"-mode", mode}})
	}
	type callOut struct {
		Text    string `json:"text"`
		IsError bool   `json:"isError"`
		Error   *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	call := func(t *testing.T, slug, transport string) callOut {
		var out callOut
		url := g.mcpURL(slug)
		if transport == "sse" {
			url = g.base + "/sse/" + slug
		}
		runTS(t, url, transport, "call-tool", &out, "--tool", "get_notes", "--args", `{"topic":"launch"}`)
		return out
	}
	for _, transport := range []string{"http", "sse"} {
		t.Run(transport, func(t *testing.T) {
			t.Run("a benign server passes untouched", func(t *testing.T) {
				out := call(t, "notes-benign", transport)
				if out.Error != nil || out.Text != "Notes on launch: the release is planned for Friday." {
					t.Errorf("%+v", out)
				}
			})
			t.Run("a leaked AWS key is redacted", func(t *testing.T) {
				out := call(t, "notes-leaky", transport)
				if out.Error != nil || strings.Contains(out.Text, "AKIA") || !strings.Contains(out.Text, "[redacted]") || !strings.Contains(out.Text, "Notes on launch") {
					t.Errorf("%+v", out)
				}
			})
			t.Run("an injection in the output is blocked with the guard named", func(t *testing.T) {
				out := call(t, "notes-poisoned", transport)
				if out.Error == nil || out.Error.Code != -32056 || !strings.Contains(out.Error.Message, `ToolGuard "tool-call-guard"`) {
					t.Errorf("%+v", out)
				}
			})
		})
	}
	t.Run("the verdicts are in the audit log", func(t *testing.T) {
		var entries []map[string]any
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			var out struct {
				Entries []map[string]any `json:"entries"`
			}
			g.admin(http.MethodGet, "/audit?action=tool.call&connector=notes-poisoned", nil, &out)
			if entries = out.Entries; len(entries) >= 2 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if len(entries) < 2 {
			t.Fatalf("audit entries %v", entries)
		}
		e := entries[0]
		guards, _ := e["guards"].([]any)
		if e["outcome"] != "denied" || len(guards) == 0 || guards[0].(map[string]any)["verdict"] != "block" {
			t.Errorf("entry %v", e)
		}
	})
}

// TestGuardScanCLI: `gatehouse guard scan` runs the Tool List Guard on a
// live server's tools, here two connectors reached through the gateway.
func TestGuardScanCLI(t *testing.T) {
	bin := buildPoisoned(t)
	g := startGateway(t, "")
	for _, mode := range []string{"benign", "poisoned"} {
		g.addConnector(map[string]any{"name": "notes-" + mode, "slug": "notes-" + mode, "transport": "stdio", "command": bin, "args": []string{"-mode", mode}})
	}
	scan := func(slug string) (string, error) {
		cmd := exec.Command(peers.bin, "guard", "scan", slug, "--server", g.base, "--token", adminToken)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := scan("notes-benign"); err != nil || !strings.Contains(out, "2 tools, verdict allow") {
		t.Errorf("benign: %v\n%s", err, out)
	}
	out, err := scan("notes-poisoned")
	if err == nil || !strings.Contains(out, "verdict block") || !strings.Contains(out, "get_notes") || !strings.Contains(out, "hidden-instructions") {
		t.Errorf("poisoned: %v\n%s", err, out)
	}
}
