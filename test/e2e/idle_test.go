//go:build e2e

package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// children lists the pids of a process's children (Linux /proc).
func children(t *testing.T, pid int) []string {
	t.Helper()
	var out []string
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	for _, f := range tasks {
		data, err := os.ReadFile(f)
		if err == nil {
			out = append(out, strings.Fields(string(data))...)
		}
	}
	return out
}

// TestIdleSessionsAreReaped checks that a session left idle past
// upstream.session_idle_timeout is closed and its STDIO process stopped.
func TestIdleSessionsAreReaped(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(cfg, []byte("upstream:\n  session_idle_timeout: 1s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGatewayArgs(t, []string{"serve", "--config", cfg})
	g.addConnector(map[string]any{"name": "echo", "slug": "echo", "transport": "stdio", "command": echoServer(t)})
	// Creating the connector scans its tools through a session of the
	// gateway's own; wait until that scan is done and its process gone.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var scan struct {
			Tools []any `json:"tools"`
		}
		g.admin(http.MethodGet, "/connectors/echo/tools", nil, &scan)
		if len(scan.Tools) > 0 && len(children(t, g.proc.cmd.Process.Pid)) == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	url := g.mcpURL("echo")
	sid := openSession(t, url)
	if r := callTool(t, url, sid, "echo", `{"message":"x"}`); r.msg.Result == nil {
		t.Fatalf("call: %s", r.body)
	}
	if n := len(children(t, g.proc.cmd.Process.Pid)); n != 1 {
		t.Fatalf("%d upstream processes while the session is open, want 1", n)
	}
	// The bound only keeps a broken reaper from hanging the test.
	deadline = time.Now().Add(30 * time.Second)
	for len(children(t, g.proc.cmd.Process.Pid)) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := len(children(t, g.proc.cmd.Process.Pid)); n != 0 {
		t.Fatalf("%d upstream processes left after the idle timeout", n)
	}
	wantRPCError(t, callTool(t, url, sid, "echo", `{"message":"x"}`), 404, -32600, "session not found")
}
