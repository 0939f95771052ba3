//go:build e2e

package e2e

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInspectorCLIThroughGateway runs the MCP Inspector's CLI (2.12.0)
// through the gateway with a bearer token, over both client transports.
func TestInspectorCLIThroughGateway(t *testing.T) {
	g := startGateway(t, "")
	g.addConnector(everythingSTDIO("everything"))
	inspector := filepath.Join(peers.nodeModules, "@modelcontextprotocol/inspector/clients/launcher/build/index.js")
	run := func(t *testing.T, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(peers.node, append([]string{inspector, "--cli"}, args...)...)
		cmd.Env = append(cmd.Environ(), "HOME="+t.TempDir(), "PATH="+filepath.Dir(peers.node)+":/usr/bin:/bin")
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("inspector %v: %v\n%s\n%s", args, err, out, tail(stderr, 2000))
		}
		return out
	}
	auth := "Authorization: Bearer " + adminToken
	t.Run("lists tools over Streamable HTTP", func(t *testing.T) {
		var res struct {
			Tools []struct{ Name string } `json:"tools"`
		}
		out := run(t, g.mcpURL("everything"), "--transport", "http", "--header", auth, "--method", "tools/list")
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("decode %s: %v", out, err)
		}
		found := false
		for _, tool := range res.Tools {
			found = found || tool.Name == "echo"
		}
		if !found {
			t.Errorf("echo not in %d tools", len(res.Tools))
		}
	})
	t.Run("calls a tool over SSE", func(t *testing.T) {
		out := run(t, g.base+"/sse/everything", "--transport", "sse", "--header", auth, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=inspected")
		if !strings.Contains(string(out), "Echo: inspected") {
			t.Errorf("tools/call returned %s", out)
		}
	})
}
