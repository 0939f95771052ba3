//go:build e2e

package e2e

import (
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestSIGTERMDrainsCallsInFlight: a stop lets a call in flight finish
// (the Go SDK client gets its answer, not an error), refuses new
// connections meanwhile, and the gateway then exits cleanly.
func TestSIGTERMDrainsCallsInFlight(t *testing.T) {
	g := startGateway(t, "", "GATEHOUSE_SHUTDOWN_GRACE=20s")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	up := start(t, "echoserver-http", nil, echoServer(t), "-http", addr)
	waitHTTP(t, "http://"+addr+"/mcp", up)
	g.addConnector(map[string]any{"name": "echo", "slug": "echo", "transport": "streamable-http", "url": "http://" + addr + "/mcp", "auth": map[string]any{"kind": "none"}})
	ctx := ctxFor(t)
	s, err := connectLegacy(ctx, g.mcpURL("echo"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	type answer struct {
		res *mcp.CallToolResult
		err error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "slow", Arguments: map[string]any{"ms": 2500}})
		done <- answer{res, err}
	}()
	waitFor(t, "the slow call to reach the upstream", func() bool { return strings.Contains(up.out.String(), "slow call started") })
	if err := syscall.Kill(g.proc.cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// While the call drains, the gateway takes no new connection.
	host := strings.TrimPrefix(g.base, "http://")
	waitFor(t, "the listener to close", func() bool {
		c, err := net.DialTimeout("tcp", host, time.Second)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	a := <-done
	if a.err != nil {
		t.Fatalf("the call in flight failed at SIGTERM: %v", a.err)
	}
	if got := textOf(a.res); got != "slept 2500 ms" {
		t.Errorf("the call in flight answered %q", got)
	}
	select {
	case <-g.proc.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the gateway did not exit after draining")
	}
	out := g.proc.out.String()
	for _, want := range []string{"draining calls in flight", `"message":"stopped"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the gateway's log lacks %q", want)
		}
	}
	if strings.Contains(out, "calls still in flight after the grace period") {
		t.Error("the call was cut off by the grace period")
	}
	if code := g.proc.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// waitFor polls cond until it holds, failing after a generous bound (the
// bound is for a hung gateway, not a measurement).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
