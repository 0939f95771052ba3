//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// limitedGateway starts a gateway whose config file has limits.
func limitedGateway(t *testing.T, limits string) *gateway {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(cfg, []byte("limits:\n"+limits), 0o600); err != nil {
		t.Fatal(err)
	}
	return startGatewayArgs(t, []string{"serve", "--config", cfg})
}

// connectLegacy connects the official Go SDK client with a legacy
// protocol version, so that it holds a session of its own.
func connectLegacy(ctx context.Context, url string) (*mcp.ClientSession, error) {
	client := mcp.NewClient(&mcp.Implementation{Name: "gatehouse-e2e-limits", Version: "1.0.0"}, nil)
	return client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
}

func echoBack(ctx context.Context, s *mcp.ClientSession, message string) error {
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": message}})
	if err != nil {
		return err
	}
	if got := textOf(res); got != message {
		return fmt.Errorf("echo returned %q, want %q", got, message)
	}
	return nil
}

// TestSessionLimitPerUser shows limits.sessions_per_user with the Go SDK
// client, which (like many clients) leaves sessions open: past the limit
// the user's least recently used idle session is closed to make room, so
// the new session works, the closed one is told its session is gone, and
// the others keep working. (A limit reached with every session busy is
// refused with -31059: core/proxy TestSessionLimits.)
func TestSessionLimitPerUser(t *testing.T) {
	g := limitedGateway(t, "  sessions_per_user: 2\n")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	up := start(t, "echoserver-http", nil, echoServer(t), "-http", addr)
	waitHTTP(t, "http://"+addr+"/mcp", up)
	g.addConnector(map[string]any{"name": "echo", "slug": "echo", "transport": "streamable-http", "url": "http://" + addr + "/mcp", "auth": map[string]any{"kind": "none"}})
	ctx := ctxFor(t)
	url := g.mcpURL("echo")

	var sessions []*mcp.ClientSession
	for i := range 3 {
		s, err := connectLegacy(ctx, url)
		if err != nil {
			t.Fatalf("session %d: %v", i+1, err)
		}
		defer s.Close()
		if err := echoBack(ctx, s, fmt.Sprint("hello ", i+1)); err != nil {
			t.Fatalf("session %d: %v", i+1, err)
		}
		sessions = append(sessions, s)
	}
	if err := echoBack(ctx, sessions[0], "still here?"); err == nil {
		t.Error("the least recently used session still works past limits.sessions_per_user 2")
	} else if !strings.Contains(err.Error(), "session") {
		t.Errorf("the closed session's error %v does not say its session is gone", err)
	}
	for i, s := range sessions[1:] {
		if err := echoBack(ctx, s, "still here"); err != nil {
			t.Errorf("session %d after the eviction: %v", i+2, err)
		}
	}
	if got := strings.Count(g.proc.out.String(), "closing the least recently used idle session"); got < 1 {
		t.Errorf("the gateway logged %d evictions, want at least 1", got)
	}
}

// TestSTDIOProcessLimitClosesIdleSession shows the reuse on a STDIO
// connector: at limits.stdio_processes_per_user, a new session closes the
// user's least recently used idle one instead of being refused.
func TestSTDIOProcessLimitClosesIdleSession(t *testing.T) {
	g := limitedGateway(t, "  stdio_processes_per_user: 1\n")
	g.addConnector(map[string]any{"name": "echo", "slug": "echo", "transport": "stdio", "command": echoServer(t)})
	ctx := ctxFor(t)
	url := g.mcpURL("echo")

	first, err := connectLegacy(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if err := echoBack(ctx, first, "one"); err != nil {
		t.Fatal(err)
	}
	second, err := connectLegacy(ctx, url)
	if err != nil {
		t.Fatalf("a second session with the first one idle: %v", err)
	}
	defer second.Close()
	if err := echoBack(ctx, second, "two"); err != nil {
		t.Error(err)
	}
	if err := echoBack(ctx, first, "gone"); err == nil {
		t.Error("the idle session closed to make room still answers")
	}
}
