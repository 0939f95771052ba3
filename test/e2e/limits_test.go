//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
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
// client: the session past the limit is refused with -32059 naming the
// limit and its value, the open sessions keep working, and once one is
// closed a new one opens.
func TestSessionLimitPerUser(t *testing.T) {
	g := limitedGateway(t, "  sessions_per_user: 2\n")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	up := start(t, "echoserver-http", nil, echoServer(t), "-http", addr)
	waitHTTP(t, "http://"+addr+"/mcp", up)
	g.addConnector(map[string]any{"name": "echo", "slug": "echo", "transport": "streamable-http", "url": "http://" + addr + "/mcp", "auth": map[string]any{"kind": "none"}})
	ctx := ctxFor(t)
	url := g.mcpURL("echo")

	first, err := connectLegacy(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := connectLegacy(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()

	third, err := connectLegacy(ctx, url)
	if err == nil {
		third.Close()
		t.Fatal("a third session opened past limits.sessions_per_user 2")
	}
	var rpcErr *jsonrpc.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != -32059 {
		t.Fatalf("err = %v, want JSON-RPC error -32059", err)
	}
	if !strings.Contains(rpcErr.Message, "limits.sessions_per_user is 2") {
		t.Errorf("message %q does not name the limit and its value", rpcErr.Message)
	}
	var data struct {
		Limit string `json:"limit"`
		Value int    `json:"value"`
	}
	if json.Unmarshal(rpcErr.Data, &data) != nil || data.Limit != "sessions_per_user" || data.Value != 2 {
		t.Errorf("data = %s", rpcErr.Data)
	}
	if err := echoBack(ctx, second, "still here"); err != nil {
		t.Errorf("an open session after the refusal: %v", err)
	}

	if err := first.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	again, err := connectLegacy(ctx, url)
	if err != nil {
		t.Fatalf("a session after one was closed: %v", err)
	}
	defer again.Close()
	if err := echoBack(ctx, again, "room again"); err != nil {
		t.Error(err)
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
