//go:build e2e

package e2e

import (
	"strings"
	"testing"

	mcpgo "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// TestMCPGoClientThroughGateway drives the gateway with mark3labs/mcp-go,
// a dual-era client written independently of the official SDKs: it tries
// the modern protocol first and falls back to initialize.
func TestMCPGoClientThroughGateway(t *testing.T) {
	g := startGateway(t, "")
	g.addConnector(everythingSTDIO("legacy"))
	g.addConnector(map[string]any{"name": "modern", "slug": "modern", "transport": "streamable-http", "url": startStatelessEverything(t), "auth": map[string]any{"kind": "none"}})

	cases := []struct {
		name, url, tool string
		args            map[string]any
		wantText        string
		wantVersion     string
	}{
		{"reaches a legacy STDIO upstream through translation", g.mcpURL("legacy"), "echo", map[string]any{"message": "mcp-go"}, "Echo: mcp-go", "2026-07-28"},
		{"reaches a modern upstream sessionless", g.mcpURL("modern"), "test_simple_text", nil, "simple text", "2026-07-28"},
		{"reaches the aggregate endpoint in the modern era", g.base + "/mcp", "legacy__echo", map[string]any{"message": "agg"}, "Echo: agg", "2026-07-28"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxFor(t)
			c, err := mcpgo.NewStreamableHttpClient(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Start(ctx); err != nil {
				t.Fatal(err)
			}
			init, err := c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{ClientInfo: mcp.Implementation{Name: "mcp-go-e2e", Version: "1"}}})
			if err != nil {
				t.Fatalf("initialize: %v", err)
			}
			if init.ProtocolVersion != tc.wantVersion {
				t.Errorf("negotiated %q, want %q", init.ProtocolVersion, tc.wantVersion)
			}
			tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
			if err != nil {
				t.Fatalf("tools/list: %v", err)
			}
			found := false
			for _, tool := range tools.Tools {
				found = found || tool.Name == tc.tool
			}
			if !found {
				t.Errorf("tools/list lacks %q (%d tools)", tc.tool, len(tools.Tools))
			}
			res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tc.tool, Arguments: tc.args}})
			if err != nil {
				t.Fatalf("tools/call: %v", err)
			}
			var text strings.Builder
			for _, content := range res.Content {
				if tc, ok := content.(mcp.TextContent); ok {
					text.WriteString(tc.Text)
				}
			}
			if !strings.Contains(text.String(), tc.wantText) {
				t.Errorf("tools/call %s returned %q, want %q", tc.tool, text.String(), tc.wantText)
			}
		})
	}
}
