//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// toolScan is GET /admin/v1/connectors/{slug}/tools.
type toolScan struct {
	Tools []struct {
		Name, Status, Verdict string
		Reasons               []string
	} `json:"tools"`
}

// waitScan waits for the gateway's scan of a connector's tools: creating
// an active connector scans them in the background, before any client
// lists them.
func waitScan(t *testing.T, g *gateway, slug string) toolScan {
	t.Helper()
	var scan toolScan
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		g.admin(http.MethodGet, "/connectors/"+slug+"/tools", nil, &scan)
		if len(scan.Tools) > 0 {
			return scan
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no scan of %s's tools within 30 s", slug)
	return scan
}

// TestToolGuardJudgesAcrossConnectors: a tool named to be picked over
// another connector's tool (best_get_notes beside get_notes) is held at
// registration, naming the connector it shadows, while the tool both
// servers share by name (echo) is not: official Go SDK servers, listed
// by the official TypeScript SDK client.
func TestToolGuardJudgesAcrossConnectors(t *testing.T) {
	bin := buildPoisoned(t)
	g := startGateway(t, "")
	g.addConnector(map[string]any{"name": "Team notes", "slug": "notes", "transport": "stdio", "command": bin, "args": []string{"-mode", "benign"}})
	waitScan(t, g, "notes")
	g.addConnector(map[string]any{"name": "Notes plus", "slug": "notes-plus", "transport": "stdio", "command": bin, "args": []string{"-mode", "shadowing"}})
	scan := waitScan(t, g, "notes-plus")
	statuses := map[string]string{}
	for _, tool := range scan.Tools {
		statuses[tool.Name] = tool.Status
		if tool.Name == "best_get_notes" && !strings.Contains(strings.Join(tool.Reasons, ";"), "Team notes") {
			t.Errorf("best_get_notes held for %v, want a reason naming Team notes", tool.Reasons)
		}
	}
	if statuses["best_get_notes"] != "held-flagged" || statuses["echo"] != "approved" {
		t.Fatalf("scan of notes-plus: %v", statuses)
	}
	if listed := listTools(t, g, "notes-plus"); contains(listed, "best_get_notes") || !contains(listed, "echo") {
		t.Errorf("the client lists %v on notes-plus", listed)
	}
	if listed := listTools(t, g, "notes"); !contains(listed, "get_notes") || !contains(listed, "echo") {
		t.Errorf("the client lists %v on notes", listed)
	}
}

// listTools lists a connector's tools through the gateway with the
// official TypeScript SDK client (Streamable HTTP).
func listTools(t *testing.T, g *gateway, slug string) []string {
	t.Helper()
	var listed struct {
		Tools []string `json:"tools"`
	}
	runTS(t, g.mcpURL(slug), "http", "list-tools", &listed)
	return listed.Tools
}

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
	for _, mode := range []string{"benign", "leaky", "injecting", "poisoned"} {
		g.addConnector(map[string]any{"name": "notes-" + mode, "slug": "notes-" + mode, "transport": "stdio", "command": bin, "args": []string{"-mode", mode}})
	}
	t.Run("a poisoned tool definition is flagged at registration and held back", func(t *testing.T) {
		scan := waitScan(t, g, "notes-poisoned")
		flagged := false
		for _, tool := range scan.Tools {
			if tool.Name == "get_notes" {
				flagged = tool.Status == "held-flagged" && tool.Verdict == "block" && len(tool.Reasons) > 0
			}
		}
		if !flagged {
			t.Fatalf("scan %+v", scan)
		}
		if listed := listTools(t, g, "notes-poisoned"); contains(listed, "get_notes") || !contains(listed, "echo") {
			t.Errorf("the client lists %v", listed)
		}
		if listed := listTools(t, g, "notes-benign"); !contains(listed, "get_notes") {
			t.Errorf("the benign server lists %v", listed)
		}
	})
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
				out := call(t, "notes-injecting", transport)
				if out.Error == nil || out.Error.Code != -31056 || !strings.Contains(out.Error.Message, `ToolGuard "tool-call-guard"`) {
					t.Errorf("%+v", out)
				}
			})
			t.Run("a call to a held tool is refused before the upstream", func(t *testing.T) {
				out := call(t, "notes-poisoned", transport)
				if out.Error == nil || out.Error.Code != -31057 || !strings.Contains(out.Error.Message, "Tool List Guard flagged") {
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
			g.admin(http.MethodGet, "/audit?action=tool.call&connector=notes-injecting", nil, &out)
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
	if out, err := scan("notes-benign"); err != nil || !strings.Contains(out, "2 tools, 0 held") {
		t.Errorf("benign: %v\n%s", err, out)
	}
	out, err := scan("notes-poisoned")
	if err == nil || !strings.Contains(out, "1 held") || !strings.Contains(out, "get_notes  held-flagged  block") || !strings.Contains(out, "hidden-instructions") {
		t.Errorf("poisoned: %v\n%s", err, out)
	}
	// A server reached by URL is listed directly and judged locally.
	port := freePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/mcp", port)
	p := start(t, "poisoned-http", nil, bin, "-mode", "poisoned", "-http", fmt.Sprintf("127.0.0.1:%d", port))
	waitHTTP(t, url, p)
	direct, err := exec.Command(peers.bin, "guard", "scan", url).CombinedOutput()
	if err == nil || !strings.Contains(string(direct), "2 tools, verdict block") || !strings.Contains(string(direct), "get_notes") {
		t.Errorf("by URL: %v\n%s", err, direct)
	}
}

// TestRugPull: a tool's definition changes after it was approved; the
// gateway holds it back from tools/list and refuses calls to it until an
// admin approves the new definition.
func TestRugPull(t *testing.T) {
	bin := buildPoisoned(t)
	// One server process for every session (over HTTP), so the change it
	// makes to itself is what the next session sees.
	port := freePort(t)
	upstream := fmt.Sprintf("http://127.0.0.1:%d/mcp", port)
	p := start(t, "poisoned", nil, bin, "-mode", "rugpull", "-http", fmt.Sprintf("127.0.0.1:%d", port))
	waitHTTP(t, upstream, p)
	g := startGateway(t, "")
	g.addConnector(map[string]any{"name": "Notes", "slug": "notes", "transport": "streamable-http", "url": upstream, "auth": map[string]any{"kind": "none"}})
	list := func(t *testing.T) []string {
		var out struct {
			Tools []string `json:"tools"`
		}
		runTS(t, g.mcpURL("notes"), "http", "list-tools", &out)
		return out.Tools
	}
	type callOut struct {
		Text  string `json:"text"`
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	call := func(t *testing.T) callOut {
		var out callOut
		runTS(t, g.mcpURL("notes"), "http", "call-tool", &out, "--tool", "get_notes", "--args", `{"topic":"launch"}`)
		return out
	}
	if got := list(t); !contains(got, "get_notes") || !contains(got, "echo") {
		t.Fatalf("first list %v", got)
	}
	// The first call is served, and makes the server change the tool.
	if out := call(t); out.Error != nil || !strings.Contains(out.Text, "Notes on launch") {
		t.Fatalf("first call %+v", out)
	}
	if got := list(t); contains(got, "get_notes") || !contains(got, "echo") {
		t.Fatalf("after the rug pull the list is %v; get_notes must be held back", got)
	}
	if out := call(t); out.Error == nil || out.Error.Code != -31057 || !strings.Contains(out.Error.Message, "held for review") {
		t.Fatalf("a call to the held tool: %+v", out)
	}
	var scan struct {
		Tools []struct {
			Name, Status string
		} `json:"tools"`
	}
	g.admin(http.MethodGet, "/connectors/notes/tools", nil, &scan)
	held := false
	for _, tool := range scan.Tools {
		held = held || tool.Name == "get_notes" && tool.Status == "held-changed"
	}
	if !held {
		t.Fatalf("scan %+v", scan)
	}
	if code := g.admin(http.MethodPost, "/connectors/notes/tools/get_notes/approve", nil, nil); code != http.StatusOK {
		t.Fatalf("approve: HTTP %d", code)
	}
	if got := list(t); !contains(got, "get_notes") {
		t.Fatalf("after approval the list is %v", got)
	}
	if out := call(t); out.Error != nil || out.Text != "changed" {
		t.Errorf("after approval: %+v", out)
	}
}
