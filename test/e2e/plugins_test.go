//go:build e2e

package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/gatehouse-mcp/gatehouse/plugins/examples/websocket/wsmcp"
)

// codePluginFailed is the gateway's "plugin failed" code (docs/errors.md).
const codePluginFailed = -31063

// pluginBinary is an example plugin `make build` put beside the gateway
// binary (bin/plugins), with its SHA-256.
func pluginBinary(t *testing.T, name string) (path, sum string) {
	t.Helper()
	path = filepath.Join(filepath.Dir(peers.bin), "plugins", "gatehouse-plugin-"+name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("example plugin %s missing (make build builds it): %v", name, err)
	}
	h := sha256.Sum256(b)
	return path, hex.EncodeToString(h[:])
}

// pluginGateway starts a gateway whose config loads the given plugins
// (the plugins.list entries, YAML) plus extra top-level config.
func pluginGateway(t *testing.T, list, extra string) *gateway {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "gatehouse.yaml")
	body := "plugins:\n  call_timeout: 20s\n  health_interval: 200ms\n  restart_backoff_max: 1s\n  list:\n" + list + extra
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return startGatewayArgs(t, []string{"serve", "--config", cfg})
}

// pluginStatus is one entry of GET /admin/v1/plugins.
type pluginStatus struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	State     string `json:"state"`
	Restarts  int    `json:"restarts"`
	PID       int    `json:"pid"`
	LastError string `json:"last_error"`
}

func (g *gateway) plugin(name string) pluginStatus {
	g.t.Helper()
	var out struct {
		Plugins []pluginStatus `json:"plugins"`
	}
	if code := g.admin(http.MethodGet, "/plugins", nil, &out); code != http.StatusOK {
		g.t.Fatalf("GET /plugins: HTTP %d", code)
	}
	for _, p := range out.Plugins {
		if p.Name == name {
			return p
		}
	}
	g.t.Fatalf("GET /plugins lists no plugin %q: %+v", name, out.Plugins)
	return pluginStatus{}
}

// waitPlugin polls the admin API until ok holds for the plugin, bounded
// by a minute (a bound on a hang, not a timing assertion).
func (g *gateway) waitPlugin(name string, ok func(pluginStatus) bool) pluginStatus {
	g.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		st := g.plugin(name)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("plugin %s stayed %+v", name, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wsUpstream is an official Go SDK MCP server served over WebSocket in
// the test process: the upstream the websocket transport plugin dials.
type wsUpstream struct {
	url string
	// entered receives once per call of the "block" tool as it starts.
	entered chan struct{}
	// handshakes counts the WebSocket handshakes that carried the
	// connector's header.
	handshakes atomic.Int32
}

const wsUpstreamKey = "ws-upstream-key-42"

func startWSUpstream(t *testing.T) *wsUpstream {
	t.Helper()
	up := &wsUpstream{entered: make(chan struct{}, 8)}
	newServer := func() *mcp.Server {
		s := mcp.NewServer(&mcp.Implementation{Name: "ws-upstream", Version: "1.0.0"}, nil)
		type echoArgs struct {
			Message string `json:"message"`
		}
		mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Echo the message back."},
			func(_ context.Context, _ *mcp.CallToolRequest, in echoArgs) (*mcp.CallToolResult, any, error) {
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Message}}}, nil, nil
			})
		mcp.AddTool(s, &mcp.Tool{Name: "block", Description: "Wait until the call is cancelled."},
			func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
				up.entered <- struct{}{}
				<-ctx.Done()
				return nil, nil, ctx.Err()
			})
		return s
	}
	// The connector's headers reach the upstream on the handshake.
	check := func(r *http.Request) bool {
		if r.Header.Get("X-Upstream-Key") != wsUpstreamKey {
			return false
		}
		up.handshakes.Add(1)
		return true
	}
	srv := httptest.NewServer(wsmcp.Handler(newServer, check))
	t.Cleanup(srv.Close)
	up.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	return up
}

func websocketPluginList(t *testing.T) string {
	path, sum := pluginBinary(t, "websocket")
	return fmt.Sprintf("    - name: websocket\n      kind: transport\n      path: %s\n      sha256: %s\n", path, sum)
}

// rpcCode is the JSON-RPC error code of a Go SDK client call's error.
func rpcCode(err error) (int64, string, bool) {
	var werr *jsonrpc.Error
	if !errors.As(err, &werr) {
		return 0, "", false
	}
	return werr.Code, werr.Message, true
}

// TestWebSocketTransportPlugin: a connector of the websocket plugin
// transport, listed and called through the gateway by the official Go SDK
// client in both protocol eras and by the official TypeScript SDK client; the plugin killed in the middle of a
// call fails that call with −31063 naming the plugin, the gateway stays
// up, the host restarts the plugin and the next call works.
func TestWebSocketTransportPlugin(t *testing.T) {
	up := startWSUpstream(t)
	g := pluginGateway(t, websocketPluginList(t), "")
	if st := g.waitPlugin("websocket", func(s pluginStatus) bool { return s.State == "running" }); st.Kind != "transport" || st.PID == 0 {
		t.Fatalf("plugin status %+v, want a running transport plugin with a pid", st)
	}
	g.addConnector(map[string]any{"name": "ws", "slug": "ws", "transport": "websocket", "url": up.url,
		"auth": map[string]any{"kind": "none"}, "headers": map[string]string{"X-Upstream-Key": wsUpstreamKey}})

	t.Run("a transport no plugin serves is refused naming it", func(t *testing.T) {
		var out struct {
			Error struct {
				Field   string `json:"field"`
				Message string `json:"message"`
			} `json:"error"`
		}
		code := g.admin(http.MethodPost, "/connectors", map[string]any{"name": "pigeon", "slug": "pigeon", "transport": "carrier-pigeon",
			"url": "pigeon://loft", "auth": map[string]any{"kind": "none"}, "status": "active"}, &out)
		if code != http.StatusUnprocessableEntity || out.Error.Field != "transport" ||
			!strings.Contains(out.Error.Message, `"carrier-pigeon"`) || !strings.Contains(out.Error.Message, "loaded: websocket") {
			t.Fatalf("HTTP %d %+v, want 422 on transport naming carrier-pigeon and the loaded plugin", code, out)
		}
	})

	for _, era := range []struct{ name, version string }{{"legacy client", "2025-11-25"}, {"modern client", "2026-07-28"}} {
		t.Run("list and call, "+era.name, func(t *testing.T) {
			var samples atomic.Int32
			sess := goClientVersion(t, g.mcpURL("ws"), era.version, &samples)
			ctx := ctxFor(t)
			tools, err := sess.ListTools(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tl := range tools.Tools {
				names = append(names, tl.Name)
			}
			if !contains(names, "echo") || !contains(names, "block") {
				t.Fatalf("tools %v, want echo and block from the WebSocket upstream", names)
			}
			res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "over a websocket " + era.name}})
			if err != nil {
				t.Fatal(err)
			}
			if got := textOf(res); got != "over a websocket "+era.name {
				t.Fatalf("echo answered %q", got)
			}
		})
	}
	t.Run("list and call, TypeScript SDK client", func(t *testing.T) {
		var listed struct {
			Tools []string `json:"tools"`
		}
		runTS(t, g.mcpURL("ws"), "http", "list-tools", &listed)
		if !contains(listed.Tools, "echo") || !contains(listed.Tools, "block") {
			t.Fatalf("tools %v, want echo and block from the WebSocket upstream", listed.Tools)
		}
		var called struct {
			Text    string `json:"text"`
			IsError bool   `json:"isError"`
		}
		runTS(t, g.mcpURL("ws"), "http", "call-tool", &called, "--tool", "echo", "--args", `{"message":"from the TypeScript SDK"}`)
		if called.IsError || called.Text != "from the TypeScript SDK" {
			t.Fatalf("echo answered %+v", called)
		}
	})
	if up.handshakes.Load() == 0 {
		t.Fatal("no WebSocket handshake carried the connector's header")
	}

	t.Run("an upstream the plugin cannot reach is the connector's unavailability", func(t *testing.T) {
		g.addConnector(map[string]any{"name": "ws-down", "slug": "ws-down", "transport": "websocket",
			"url": fmt.Sprintf("ws://127.0.0.1:%d/", freePort(t)), "auth": map[string]any{"kind": "none"}})
		r := post(t, g.mcpURL("ws-down"), initBody, nil)
		wantRPCError(t, r, 200, -31050, `through plugin "websocket"`)
		if st := g.plugin("websocket"); st.State != "running" {
			t.Fatalf("plugin %+v after its upstream refused, want running", st)
		}
	})

	t.Run("plugin killed mid-call", func(t *testing.T) {
		var samples atomic.Int32
		sess := goClientVersion(t, g.mcpURL("ws"), "2025-11-25", &samples)
		ctx := ctxFor(t)
		if err := echoBack(ctx, sess, "before the crash"); err != nil {
			t.Fatal(err)
		}
		before := g.plugin("websocket")
		errc := make(chan error, 1)
		go func() {
			_, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "block", Arguments: map[string]any{}})
			errc <- err
		}()
		select {
		case <-up.entered:
		case <-ctx.Done():
			t.Fatal("the block call never reached the upstream")
		}
		if err := syscall.Kill(before.PID, syscall.SIGKILL); err != nil {
			t.Fatalf("kill plugin pid %d: %v", before.PID, err)
		}
		var callErr error
		select {
		case callErr = <-errc:
		case <-ctx.Done():
			t.Fatal("the call in flight did not end when its plugin died")
		}
		code, msg, ok := rpcCode(callErr)
		if !ok || code != codePluginFailed || !strings.Contains(msg, `plugin "websocket"`) {
			t.Fatalf("call in flight: %v, want JSON-RPC %d naming plugin \"websocket\"", callErr, codePluginFailed)
		}
		resp, err := http.Get(g.base + "/healthz")
		if err != nil {
			t.Fatalf("gateway down after its plugin died: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/healthz %d after the plugin died", resp.StatusCode)
		}
		after := g.waitPlugin("websocket", func(s pluginStatus) bool {
			return s.State == "running" && s.Restarts > before.Restarts && s.PID != before.PID
		})
		if after.LastError == "" {
			t.Errorf("restarted plugin's status %+v does not say why it restarted", after)
		}
		if err := echoBack(ctx, sess, "after the restart"); err != nil {
			t.Fatalf("next call after the restart: %v", err)
		}
	})
}
