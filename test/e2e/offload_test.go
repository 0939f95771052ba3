//go:build e2e

package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// fiveMB is the dump tool's output: 5 MiB of numbered lines mixing 1- to
// 4-byte runes, so a range cut inside a rune would show.
func fiveMB() string {
	var b strings.Builder
	for i := 0; b.Len() < 5<<20; i++ {
		fmt.Fprintf(&b, "line %07d: plain ascii, é ü ß, € ✓, 😀 🚀 — the end\n", i)
	}
	return b.String()
}

// startBigUpstream serves a Go SDK MCP server (Streamable HTTP, both
// eras) with two tools: dump answers text, small answers "ok".
func startBigUpstream(t *testing.T, text string) string {
	t.Helper()
	server := mcp.NewServer(&mcp.Implementation{Name: "big-output", Version: "1.0.0"}, nil)
	server.AddTool(&mcp.Tool{Name: "dump", Description: "a very large text output", InputSchema: map[string]any{"type": "object"}},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil
		})
	server.AddTool(&mcp.Tool{Name: "small", Description: "a small output", InputSchema: map[string]any{"type": "object"}},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil
		})
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil))
	t.Cleanup(func() {
		// The gateway (stopped after this cleanup) may still hold a GET
		// stream open: end it, or Close waits for it.
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv.URL
}

// offloadCall is what test/e2e/node/offload.mjs --op call reports.
type offloadCall struct {
	ResultBytes int  `json:"resultBytes"`
	IsError     bool `json:"isError"`
	Content     []struct {
		Type      string `json:"type"`
		URI       string `json:"uri"`
		MimeType  string `json:"mimeType"`
		Size      int64  `json:"size"`
		TextBytes int    `json:"textBytes"`
		Text      string `json:"text"`
	} `json:"content"`
	Link  string   `json:"link"`
	Whole readBack `json:"whole"`
	// Ranged is the link read in ranges, following each read's next.
	Ranged readBack `json:"ranged"`
}

type readBack struct {
	SHA256 string `json:"sha256"`
	Bytes  int    `json:"bytes"`
	Reads  int    `json:"reads"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// runOffloadTS runs offload.mjs with args and decodes its result.
func runOffloadTS(t *testing.T, url, token string, result any, args ...string) {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(here), "node", "offload.mjs")
	argv := append([]string{script, "--url", url}, args...)
	if token != "" {
		argv = append(argv, "--token", token)
	}
	cmd := exec.Command(peers.node, argv...)
	cmd.Env = append(os.Environ(), "GATEHOUSE_TOOLS="+peers.tools, "GATEHOUSE_NODE_MODULES="+peers.nodeModules)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var o struct {
		OK     bool            `json:"ok"`
		Error  string          `json:"error"`
		Caps   map[string]any  `json:"serverCapabilities"`
		Result json.RawMessage `json:"result"`
	}
	if jerr := json.Unmarshal(out, &o); jerr != nil || !o.OK || err != nil {
		t.Fatalf("offload.mjs %v: %v %v %s\nstdout: %.2000s\nstderr: %s", args, err, jerr, o.Error, out, tail(stderr.String(), 2000))
	}
	if _, ok := o.Caps["resources"]; !ok {
		t.Errorf("the gateway did not advertise resources: %v", o.Caps)
	}
	if err := json.Unmarshal(o.Result, result); err != nil {
		t.Fatalf("decode %s: %v", o.Result, err)
	}
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestOffloadWithTheTypeScriptSDK(t *testing.T) {
	text := fiveMB()
	g := startGateway(t, "")
	g.addConnector(map[string]any{"name": "big", "slug": "big", "transport": "streamable-http", "url": startBigUpstream(t, text), "auth": map[string]any{"kind": "none"}})
	alice, bob := g.addMember(t, "alice", "admin"), g.addMember(t, "bob", "admin")

	for _, ep := range []struct{ name, url, tool string }{
		{"on the connector's endpoint", g.mcpURL("big"), "dump"},
		{"on the aggregate endpoint", g.base + "/mcp", "big__dump"},
	} {
		t.Run(ep.name, func(t *testing.T) {
			var r offloadCall
			runOffloadTS(t, ep.url, alice, &r, "--op", "call", "--tool", ep.tool, "--step", "1000003")
			t.Run("a 5 MB output arrives as a preview and a link", func(t *testing.T) {
				if r.IsError || len(r.Content) != 2 || r.Content[0].Type != "text" || r.Content[1].Type != "resource_link" {
					t.Fatalf("content %+v", r.Content)
				}
				if r.ResultBytes > 8<<10 || !strings.HasPrefix(r.Content[0].Text, text[:1000]) {
					t.Errorf("result of %d bytes; preview %.100q", r.ResultBytes, r.Content[0].Text)
				}
				if !strings.HasPrefix(r.Link, "gatehouse://offload/big/") || r.Content[1].Size != int64(len(text)) || r.Content[1].MimeType != "text/plain" {
					t.Errorf("link %+v", r.Content[1])
				}
			})
			t.Run("the link reads back byte-identical, whole and in ranges", func(t *testing.T) {
				want := sum(text)
				if r.Whole.SHA256 != want || r.Whole.Bytes != len(text) || r.Whole.Reads != 1 {
					t.Errorf("whole read: %+v, want %d bytes with sha256 %s", r.Whole, len(text), want)
				}
				if r.Ranged.SHA256 != want || r.Ranged.Bytes != len(text) || r.Ranged.Reads < 5 {
					t.Errorf("ranged read: %+v, want %d bytes with sha256 %s in 6 ranges", r.Ranged, len(text), want)
				}
			})
			t.Run("another user cannot read it", func(t *testing.T) {
				var other readBack
				runOffloadTS(t, ep.url, bob, &other, "--op", "read", "--uri", r.Link)
				if other.Error == nil || other.Error.Code != -32002 || !strings.Contains(other.Error.Message, "not found") || other.SHA256 != "" {
					t.Fatalf("bob's read: %+v", other)
				}
			})
		})
	}
	t.Run("the audit entry names the offloaded output", func(t *testing.T) {
		var page struct {
			Entries []struct {
				Tool    string         `json:"tool"`
				Actor   string         `json:"actor"`
				Details map[string]any `json:"details"`
			} `json:"entries"`
		}
		if code := g.admin(http.MethodGet, "/audit?action=tool.call&actor=alice", nil, &page); code != http.StatusOK {
			t.Fatalf("audit: HTTP %d", code)
		}
		found := 0
		for _, e := range page.Entries {
			outs, _ := e.Details["offloaded"].([]any)
			if e.Tool == "dump" && len(outs) == 1 {
				if o, _ := outs[0].(map[string]any); o["bytes"] == float64(len(text)) && o["id"] != "" {
					found++
				}
			}
		}
		if found != 2 {
			t.Fatalf("%d audit entries name a %d-byte offload, want 2: %+v", found, len(text), page.Entries)
		}
	})
}

func TestOffloadExpiryAndQuota(t *testing.T) {
	text := fiveMB()
	cfg := filepath.Join(t.TempDir(), "gatehouse.yaml")
	// One 5 MB output fits the user's quota, a second does not; links
	// live two seconds.
	if err := os.WriteFile(cfg, []byte("offload:\n  ttl: 2s\n  user_quota_bytes: 8000000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGatewayArgs(t, []string{"serve", "--config", cfg})
	g.addConnector(map[string]any{"name": "big", "slug": "big", "transport": "streamable-http", "url": startBigUpstream(t, text), "auth": map[string]any{"kind": "none"}})
	alice := g.addMember(t, "alice", "admin")

	var first offloadCall
	runOffloadTS(t, g.mcpURL("big"), alice, &first, "--op", "call", "--tool", "dump", "--no-read")
	if first.Link == "" || first.IsError {
		t.Fatalf("first call: %+v", first)
	}
	t.Run("over the quota the call answers a clear tool error", func(t *testing.T) {
		var second offloadCall
		runOffloadTS(t, g.mcpURL("big"), alice, &second, "--op", "call", "--tool", "dump", "--no-read")
		if !second.IsError || second.Link != "" || len(second.Content) < 2 ||
			!strings.Contains(second.Content[0].Text, "your offload quota is full") || !strings.Contains(second.Content[0].Text, "offload.user_quota_bytes") ||
			!strings.HasPrefix(second.Content[1].Text, text[:1000]) {
			t.Fatalf("second call: %+v", second)
		}
	})
	t.Run("nothing else breaks: a small call still answers inline", func(t *testing.T) {
		var small offloadCall
		runOffloadTS(t, g.mcpURL("big"), alice, &small, "--op", "call", "--tool", "small")
		if small.IsError || len(small.Content) != 1 || small.Content[0].Text != "ok" {
			t.Fatalf("small call: %+v", small)
		}
	})
	t.Run("an expired link gives a clear error", func(t *testing.T) {
		// Polled until the two-second TTL has passed (no sleep asserts it).
		deadline := time.Now().Add(60 * time.Second)
		for {
			var r readBack
			runOffloadTS(t, g.mcpURL("big"), alice, &r, "--op", "read", "--uri", first.Link)
			if r.Error != nil {
				if r.Error.Code != -32002 || !strings.Contains(r.Error.Message, "expired at") || !strings.Contains(r.Error.Message, "call the tool again") {
					t.Fatalf("expired read: %+v", r.Error)
				}
				return
			}
			if r.SHA256 != sum(text) {
				t.Fatalf("read before expiry: %+v", r)
			}
			if time.Now().After(deadline) {
				t.Fatal("the link never expired")
			}
		}
	})
	t.Run("once the first expired, the quota has room again", func(t *testing.T) {
		var again offloadCall
		runOffloadTS(t, g.mcpURL("big"), alice, &again, "--op", "call", "--tool", "dump", "--no-read")
		if again.IsError || !strings.HasPrefix(again.Link, "gatehouse://offload/big/") || again.Link == first.Link {
			t.Fatalf("call after expiry: %+v", again)
		}
	})
}

// bearer adds a bearer token to every request.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// goSession connects the official Go SDK client as token's user,
// negotiating version.
func goSession(t *testing.T, url, token, version string) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "gatehouse-e2e-offload", Version: "1.0.0"}, nil)
	sess, err := client.Connect(ctxFor(t), &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: bearer{token}}},
		&mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { _ = sess.Close() })
	return sess
}

func TestOffloadWithTheGoSDKInBothEras(t *testing.T) {
	text := fiveMB()
	g := startGateway(t, "")
	g.addConnector(map[string]any{"name": "big", "slug": "big", "transport": "streamable-http", "url": startBigUpstream(t, text), "auth": map[string]any{"kind": "none"}})
	alice, bob := g.addMember(t, "alice", "admin"), g.addMember(t, "bob", "admin")
	for _, era := range []struct {
		version  string
		notFound int64
	}{{"2025-11-25", -32002}, {"2026-07-28", -32602}} {
		for _, ep := range []struct{ name, url, tool string }{
			{"the connector's endpoint", g.mcpURL("big"), "dump"},
			{"the aggregate endpoint", g.base + "/mcp", "big__dump"},
		} {
			t.Run(era.version+" on "+ep.name, func(t *testing.T) {
				ctx := ctxFor(t)
				sess := goSession(t, ep.url, alice, era.version)
				if got := sess.InitializeResult().ProtocolVersion; got != era.version {
					t.Fatalf("negotiated %q, want %q", got, era.version)
				}
				if sess.InitializeResult().Capabilities.Resources == nil {
					t.Errorf("resources capability not advertised: %+v", sess.InitializeResult().Capabilities)
				}
				res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: ep.tool, Arguments: map[string]any{}})
				if err != nil {
					t.Fatal(err)
				}
				var link *mcp.ResourceLink
				for _, c := range res.Content {
					if l, ok := c.(*mcp.ResourceLink); ok {
						link = l
					}
				}
				if res.IsError || len(res.Content) != 2 || link == nil || !strings.HasPrefix(link.URI, "gatehouse://offload/big/") || link.Size == nil || *link.Size != int64(len(text)) {
					t.Fatalf("result %+v", res.Content)
				}
				t.Run("reads back byte-identical in ranges", func(t *testing.T) {
					var got strings.Builder
					next := link.URI + "?length=2000000"
					for i := 0; next != ""; i++ {
						if i > 10 {
							t.Fatal("ranges never end")
						}
						r, err := sess.ReadResource(ctx, &mcp.ReadResourceParams{URI: next})
						if err != nil || len(r.Contents) != 1 {
							t.Fatalf("read %s: %v", next, err)
						}
						got.WriteString(r.Contents[0].Text)
						where, _ := r.Meta["io.gatehouse/offload"].(map[string]any)
						next, _ = where["next"].(string)
					}
					if got.String() != text {
						t.Fatalf("read back %d bytes, not identical to the %d stored", got.Len(), len(text))
					}
				})
				t.Run("another user is told not found in the era's code", func(t *testing.T) {
					other := goSession(t, ep.url, bob, era.version)
					_, err := other.ReadResource(ctx, &mcp.ReadResourceParams{URI: link.URI})
					var rpcErr *jsonrpc.Error
					if !errors.As(err, &rpcErr) || rpcErr.Code != era.notFound || !strings.Contains(rpcErr.Message, "not found") {
						t.Fatalf("bob's read: %v (%+v), want %d not found", err, rpcErr, era.notFound)
					}
				})
			})
		}
	}
}
