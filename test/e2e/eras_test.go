//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// startStatelessEverything runs the Go SDK's reference everything-server
// in its default stateless (2026-07-28) mode and returns its URL.
func startStatelessEverything(t *testing.T) string {
	t.Helper()
	port := freePort(t)
	p := start(t, "everything-server", nil, peers.tools+"/bin/everything-server", fmt.Sprintf("-http=127.0.0.1:%d", port))
	url := fmt.Sprintf("http://127.0.0.1:%d/mcp", port)
	waitHTTP(t, url, p)
	return url
}

// TestProtocolEras drives real clients of each era through the gateway to
// upstreams of each era.
func TestProtocolEras(t *testing.T) {
	g := startGateway(t, "")
	modernURL := startStatelessEverything(t)
	g.addConnector(map[string]any{"name": "modern", "slug": "modern", "transport": "streamable-http", "url": modernURL, "auth": map[string]any{"kind": "none"}})
	g.addConnector(map[string]any{"name": "translated", "slug": "translated", "transport": "streamable-http", "url": modernURL,
		"auth": map[string]any{"kind": "none"}, "advanced": map[string]any{"upstream_era": "modern"}})
	g.addConnector(everythingSTDIO("legacy"))

	connect := func(t *testing.T, slug, version string, opts *mcp.ClientOptions) *mcp.ClientSession {
		t.Helper()
		client := mcp.NewClient(&mcp.Implementation{Name: "eras-e2e", Version: "1"}, opts)
		sess, err := client.Connect(ctxFor(t), &mcp.StreamableClientTransport{Endpoint: g.mcpURL(slug)}, &mcp.ClientSessionOptions{ProtocolVersion: version})
		if err != nil {
			t.Fatalf("connect %s as %s: %v", slug, version, err)
		}
		t.Cleanup(func() { _ = sess.Close() })
		return sess
	}
	call := func(t *testing.T, sess *mcp.ClientSession, tool string, args map[string]any) string {
		t.Helper()
		res, err := sess.CallTool(ctxFor(t), &mcp.CallToolParams{Name: tool, Arguments: args})
		if err != nil {
			t.Fatalf("call %s: %v", tool, err)
		}
		if res.IsError {
			t.Fatalf("call %s: tool error %q", tool, textOf(res))
		}
		return textOf(res)
	}

	t.Run("a modern client reaches a modern upstream sessionless", func(t *testing.T) {
		sess := connect(t, "modern", "2026-07-28", nil)
		if v := sess.InitializeResult().ProtocolVersion; v != "2026-07-28" {
			t.Errorf("negotiated %q, want 2026-07-28", v)
		}
		if got := call(t, sess, "test_simple_text", nil); !strings.Contains(got, "simple text") {
			t.Errorf("test_simple_text returned %q", got)
		}
	})
	t.Run("a modern client reaches a legacy STDIO upstream through translation", func(t *testing.T) {
		var sampled int
		sess := connect(t, "legacy", "2026-07-28", &mcp.ClientOptions{
			CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
				sampled++
				return &mcp.CreateMessageResult{Model: "canned", Role: "assistant", Content: &mcp.TextContent{Text: "translated reply"}}, nil
			},
		})
		if v := sess.InitializeResult().ProtocolVersion; v != "2026-07-28" {
			t.Errorf("negotiated %q, want 2026-07-28 (the gateway speaks it for the legacy upstream)", v)
		}
		if got := call(t, sess, "echo", map[string]any{"message": "eras"}); got != "Echo: eras" {
			t.Errorf("echo returned %q", got)
		}
		// The upstream's sampling request mid-call reaches the modern client
		// as an input_required result; its answer resumes the parked call.
		if got := call(t, sess, "trigger-sampling-request", map[string]any{"prompt": "hi", "maxTokens": 5}); !strings.Contains(got, "translated reply") {
			t.Errorf("sampling through translation returned %q", got)
		}
		if sampled != 1 {
			t.Errorf("sampling handler ran %d times, want 1", sampled)
		}
	})
	t.Run("a legacy client reaches a modern upstream through translation", func(t *testing.T) {
		var elicited, sampled int
		sess := connect(t, "translated", "2025-11-25", &mcp.ClientOptions{
			ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
				elicited++
				return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"name": "Ada"}}, nil
			},
			CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
				sampled++
				return &mcp.CreateMessageResult{Model: "canned", Role: "assistant", Content: &mcp.TextContent{Text: "Paris"}}, nil
			},
		})
		if v := sess.InitializeResult().ProtocolVersion; v != "2025-11-25" {
			t.Errorf("negotiated %q, want 2025-11-25", v)
		}
		if got := call(t, sess, "test_simple_text", nil); !strings.Contains(got, "simple text") {
			t.Errorf("test_simple_text returned %q", got)
		}
		// input_required results become elicitation and sampling requests
		// to the legacy client; the gateway retries with the answers.
		if got := call(t, sess, "test_input_required_result_elicitation", nil); got != "Hello, Ada!" {
			t.Errorf("elicitation round trip returned %q", got)
		}
		if got := call(t, sess, "test_input_required_result_sampling", nil); got != "Sampling response: Paris" {
			t.Errorf("sampling round trip returned %q", got)
		}
		if elicited != 1 || sampled != 1 {
			t.Errorf("client handlers ran elicitation=%d sampling=%d times, want 1 each", elicited, sampled)
		}
		if err := sess.Ping(ctxFor(t), nil); err != nil {
			t.Errorf("ping (answered by the gateway for a modern upstream): %v", err)
		}
	})
}
