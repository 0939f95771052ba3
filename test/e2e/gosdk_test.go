//go:build e2e

package e2e

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// upstreamCase names one way to reach server-everything.
type upstreamCase struct {
	name      string
	connector func(t *testing.T) map[string]any
}

func everythingUpstreams() []upstreamCase {
	return []upstreamCase{
		{"stdio", func(t *testing.T) map[string]any { return everythingSTDIO("everything") }},
		{"streamable-http", func(t *testing.T) map[string]any {
			return map[string]any{"name": "everything", "slug": "everything", "transport": "streamable-http", "url": startEverythingHTTP(t), "auth": map[string]any{"kind": "none"}}
		}},
		{"sse", func(t *testing.T) map[string]any {
			return map[string]any{"name": "everything", "slug": "everything", "transport": "sse", "url": startEverythingSSE(t), "auth": map[string]any{"kind": "none"}}
		}},
	}
}

// goClient connects the official Go SDK client through the gateway, with
// sampling and elicitation handlers that answer canned replies.
func goClient(t *testing.T, url string, samples *atomic.Int32) *mcp.ClientSession {
	return goClientVersion(t, url, "", samples)
}

// goClientVersion is goClient asking for protocol version (""): the SDK's
// newest, 2026-07-28).
func goClientVersion(t *testing.T, url, version string, samples *atomic.Int32) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "gatehouse-e2e", Version: "1.0.0"}, &mcp.ClientOptions{
		CreateMessageHandler: func(ctx context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			samples.Add(1)
			return &mcp.CreateMessageResult{Model: "canned-model", Role: "assistant", Content: &mcp.TextContent{Text: "canned sample reply"}}, nil
		},
		ElicitationHandler: func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "decline"}, nil
		},
	})
	sess, err := client.Connect(ctxFor(t), &mcp.StreamableClientTransport{Endpoint: url}, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { _ = sess.Close() })
	return sess
}

func TestGoSDKClientThroughGateway(t *testing.T) {
	for _, up := range everythingUpstreams() {
		// server-everything speaks the legacy era: a legacy client's session
		// is passed through, a modern client's requests are translated.
		for _, era := range []struct{ name, version string }{{"legacy client", "2025-11-25"}, {"modern client", "2026-07-28"}} {
			t.Run(era.name+" over "+up.name, func(t *testing.T) {
				testGoSDKClient(t, up, era.version)
			})
		}
	}
}

func testGoSDKClient(t *testing.T, up upstreamCase, version string) {
	g := startGateway(t, "")
	g.addConnector(up.connector(t))
	var samples atomic.Int32
	sess := goClientVersion(t, g.mcpURL("everything"), version, &samples)
	if got := sess.InitializeResult().ProtocolVersion; got != version {
		t.Fatalf("negotiated %q, want %q", got, version)
	}
	ctx := ctxFor(t)

	t.Run("lists every tool", func(t *testing.T) {
		var names []string
		for tool, err := range sess.Tools(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, tool.Name)
		}
		for _, want := range []string{"echo", "get-structured-content", "get-resource-links", "trigger-long-running-operation", "trigger-sampling-request"} {
			if !contains(names, want) {
				t.Errorf("tools/list lacks %q; got %v", want, names)
			}
		}
	})
	t.Run("calls echo", func(t *testing.T) {
		res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hello gatehouse"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := textOf(res); got != "Echo: hello gatehouse" {
			t.Errorf("echo returned %q", got)
		}
	})
	t.Run("returns structured content", func(t *testing.T) {
		res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "get-structured-content", Arguments: map[string]any{"location": "Chicago"}})
		if err != nil {
			t.Fatal(err)
		}
		sc, ok := res.StructuredContent.(map[string]any)
		if !ok || sc["temperature"] == nil || sc["conditions"] == nil {
			t.Errorf("structuredContent = %#v", res.StructuredContent)
		}
	})
	t.Run("returns resource links", func(t *testing.T) {
		res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "get-resource-links", Arguments: map[string]any{"count": 2}})
		if err != nil {
			t.Fatal(err)
		}
		links := 0
		for _, c := range res.Content {
			if l, ok := c.(*mcp.ResourceLink); ok && l.URI != "" {
				links++
			}
		}
		if links != 2 {
			t.Errorf("got %d resource links, want 2: %#v", links, res.Content)
		}
	})
	t.Run("streams progress", func(t *testing.T) {
		var progress atomic.Int32
		client := mcp.NewClient(&mcp.Implementation{Name: "progress", Version: "1"}, &mcp.ClientOptions{
			ProgressNotificationHandler: func(context.Context, *mcp.ProgressNotificationClientRequest) { progress.Add(1) },
		})
		ps, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: g.mcpURL("everything")}, &mcp.ClientSessionOptions{ProtocolVersion: version})
		if err != nil {
			t.Fatal(err)
		}
		defer ps.Close()
		params := &mcp.CallToolParams{Name: "trigger-long-running-operation", Arguments: map[string]any{"duration": 1, "steps": 4}}
		params.SetProgressToken("tok-1")
		res, err := ps.CallTool(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(textOf(res), "completed") {
			t.Errorf("result %q", textOf(res))
		}
		// The SDK runs notification handlers asynchronously: the last
		// one may land just after the result.
		if n := eventually(func() int32 { return progress.Load() }, 4); n != 4 {
			t.Errorf("got %d progress notifications, want 4", n)
		}
	})
	t.Run("reads a resource", func(t *testing.T) {
		lr, err := sess.ListResources(ctx, nil)
		if err != nil || len(lr.Resources) == 0 {
			t.Fatalf("resources/list: %v (%d)", err, len(lr.Resources))
		}
		rr, err := sess.ReadResource(ctx, &mcp.ReadResourceParams{URI: lr.Resources[0].URI})
		if err != nil {
			t.Fatal(err)
		}
		if len(rr.Contents) == 0 || rr.Contents[0].URI != lr.Resources[0].URI {
			t.Errorf("read %s: %#v", lr.Resources[0].URI, rr.Contents)
		}
	})
	t.Run("gets a prompt", func(t *testing.T) {
		pr, err := sess.GetPrompt(ctx, &mcp.GetPromptParams{Name: "simple-prompt"})
		if err != nil {
			t.Fatal(err)
		}
		if len(pr.Messages) == 0 {
			t.Error("simple-prompt has no messages")
		}
	})
	t.Run("relays a sampling request back to the client", func(t *testing.T) {
		res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "trigger-sampling-request", Arguments: map[string]any{"prompt": "say hi", "maxTokens": 20}})
		if err != nil {
			t.Fatal(err)
		}
		if samples.Load() == 0 {
			t.Error("the client's sampling handler was never called")
		}
		if !strings.Contains(textOf(res), "canned sample reply") {
			t.Errorf("tool result does not carry the sampled text: %q", textOf(res))
		}
	})
}

func textOf(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}
