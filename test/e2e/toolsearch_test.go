//go:build e2e

package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestToolSearch drives tool search on the aggregate endpoint with the
// official Go SDK client of each era: the client lists the two
// meta-tools, searches, and calls through call_tool a tool a policy
// denies (denied exactly as a direct call) and one it allows (the
// result), and the audit log names the real tools.
func TestToolSearch(t *testing.T) {
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		t.Run("as a "+version+" client", func(t *testing.T) { testToolSearch(t, version) })
	}
}

func testToolSearch(t *testing.T, version string) {
	cfg := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(cfg, []byte("tool_search:\n  aggregate: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGatewayArgs(t, []string{"serve", "--config", cfg})
	g.addConnector(everythingSTDIO("everything"))
	g.addConnector(everythingSTDIO("spare"))
	g.putRule(t, "no-sums", map[string]any{"subject": "user:local", "connector": "everything", "kind": "tool", "name": "get-sum",
		"actions": []string{"call"}, "effect": "deny", "description": "sums go through finance"})
	g.putRule(t, "hide-spare-echo", map[string]any{"subject": "user:local", "connector": "spare", "kind": "tool", "name": "echo",
		"actions": []string{"list"}, "effect": "deny"})

	var samples atomic.Int32
	sess := goClientVersion(t, g.base+"/mcp", version, &samples)
	ctx := ctxFor(t)

	t.Run("tools/list shows the two meta-tools", func(t *testing.T) {
		res, err := sess.ListTools(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tool := range res.Tools {
			names = append(names, tool.Name)
		}
		if !slices.Equal(names, []string{"search_tools", "call_tool"}) {
			t.Errorf("listed %v", names)
		}
	})
	t.Run("search_tools finds the tool with its schema, across connectors", func(t *testing.T) {
		res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "search_tools", Arguments: map[string]any{"query": "sum of two numbers", "limit": 3}})
		if err != nil || res.IsError {
			t.Fatalf("search_tools: %v %q", err, textOf(res))
		}
		raw, _ := json.Marshal(res.StructuredContent)
		var found struct {
			Tools []struct {
				Name        string `json:"name"`
				InputSchema struct {
					Properties map[string]any `json:"properties"`
				} `json:"inputSchema"`
			} `json:"tools"`
		}
		if err := json.Unmarshal(raw, &found); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tl := range found.Tools {
			names = append(names, tl.Name)
		}
		// Both connectors run server-everything: equal scores, ordered by name.
		if len(found.Tools) < 2 || names[0] != "everything__get-sum" || names[1] != "spare__get-sum" {
			t.Fatalf("found %v", names)
		}
		if _, ok := found.Tools[0].InputSchema.Properties["a"]; !ok {
			t.Errorf("everything__get-sum came without its input schema: %s", raw)
		}
	})
	t.Run("search_tools never finds a tool a policy hides from the caller's listing", func(t *testing.T) {
		res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "search_tools", Arguments: map[string]any{"query": "echo", "limit": 20}})
		if err != nil || res.IsError {
			t.Fatalf("search_tools: %v %q", err, textOf(res))
		}
		text := textOf(res)
		if !strings.Contains(text, `"name":"everything__echo"`) || strings.Contains(text, `"name":"spare__echo"`) {
			t.Errorf("search for echo: %s", text)
		}
	})
	t.Run("call_tool of a denied tool is denied exactly as a direct call", func(t *testing.T) {
		_, viaErr := sess.CallTool(ctx, &mcp.CallToolParams{Name: "call_tool", Arguments: map[string]any{"name": "everything__get-sum", "arguments": map[string]any{"a": 1, "b": 2}}})
		_, directErr := sess.CallTool(ctx, &mcp.CallToolParams{Name: "everything__get-sum", Arguments: map[string]any{"a": 1, "b": 2}})
		if viaErr == nil || directErr == nil {
			t.Fatalf("via call_tool %v, direct %v: want both denied", viaErr, directErr)
		}
		if viaErr.Error() != directErr.Error() || !strings.Contains(viaErr.Error(), "denied by policy") || !strings.Contains(viaErr.Error(), "sums go through finance") {
			t.Errorf("via call_tool %q, direct %q", viaErr, directErr)
		}
	})
	t.Run("call_tool of an allowed tool answers its result", func(t *testing.T) {
		res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "call_tool", Arguments: map[string]any{"name": "everything__echo", "arguments": map[string]any{"message": "via search"}}})
		if err != nil || res.IsError || textOf(res) != "Echo: via search" {
			t.Fatalf("call_tool echo: %v %q", err, textOf(res))
		}
	})
	t.Run("bad arguments are a tool error naming what is wrong", func(t *testing.T) {
		res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "search_tools", Arguments: map[string]any{"query": ""}})
		if err != nil || !res.IsError || !strings.Contains(textOf(res), "query is empty") {
			t.Fatalf("empty query: %v %+v", err, res)
		}
	})
	t.Run("the audit log names the real tools", func(t *testing.T) {
		type entry struct {
			Connector string `json:"connector"`
			Tool      string `json:"tool"`
			Decision  string `json:"decision"`
			Outcome   string `json:"outcome"`
		}
		var entries []entry
		has := func(conn, tool, decision string) bool {
			return slices.ContainsFunc(entries, func(e entry) bool { return e.Connector == conn && e.Tool == tool && e.Decision == decision })
		}
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			var out struct {
				Entries []entry `json:"entries"`
			}
			if code := g.admin(http.MethodGet, "/audit?action=tool.call&limit=100", nil, &out); code != http.StatusOK {
				t.Fatalf("audit query: HTTP %d", code)
			}
			entries = out.Entries
			if has("everything", "echo", "allow") && has("everything", "get-sum", "deny") {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !has("everything", "echo", "allow") || !has("everything", "get-sum", "deny") {
			t.Errorf("no allowed echo and denied get-sum of connector everything among %+v", entries)
		}
		for _, e := range entries {
			if e.Tool == "call_tool" || e.Tool == "search_tools" || strings.Contains(e.Tool, "__") {
				t.Errorf("an audit entry names %q, not a real tool: %+v", e.Tool, e)
			}
		}
	})
}

// TestToolSearchPerConnector turns tool search on for one connector
// through the admin API (advanced.tool_search) while the gateway's
// default is off: its endpoint lists the meta-tools and calls through
// call_tool, another connector lists in full, and a PATCH back to null
// restores the full list.
func TestToolSearchPerConnector(t *testing.T) {
	g := startGateway(t, "")
	searched := everythingSTDIO("searched")
	searched["advanced"] = map[string]any{"tool_search": true}
	g.addConnector(searched)
	g.addConnector(everythingSTDIO("plain"))
	ctx := ctxFor(t)
	list := func(t *testing.T, slug string) []string {
		t.Helper()
		var samples atomic.Int32
		sess := goClientVersion(t, g.mcpURL(slug), "2025-11-25", &samples)
		res, err := sess.ListTools(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tool := range res.Tools {
			names = append(names, tool.Name)
		}
		return names
	}

	t.Run("the connector with tool search lists the meta-tools and calls through call_tool", func(t *testing.T) {
		if got := list(t, "searched"); !slices.Equal(got, []string{"search_tools", "call_tool"}) {
			t.Fatalf("listed %v", got)
		}
		var samples atomic.Int32
		sess := goClientVersion(t, g.mcpURL("searched"), "2025-11-25", &samples)
		res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "search_tools", Arguments: map[string]any{"query": "echo back the message", "limit": 1}})
		if err != nil || res.IsError || !strings.Contains(textOf(res), `"name":"echo"`) {
			t.Fatalf("search_tools: %v %q", err, textOf(res))
		}
		res, err = sess.CallTool(ctx, &mcp.CallToolParams{Name: "call_tool", Arguments: map[string]any{"name": "echo", "arguments": map[string]any{"message": "hi"}}})
		if err != nil || res.IsError || textOf(res) != "Echo: hi" {
			t.Fatalf("call_tool: %v %q", err, textOf(res))
		}
	})
	t.Run("a 2026-07-28 client (translated for the legacy upstream) gets tool search too", func(t *testing.T) {
		var samples atomic.Int32
		sess := goClientVersion(t, g.mcpURL("searched"), "2026-07-28", &samples)
		res, err := sess.ListTools(ctx, nil)
		if err != nil || len(res.Tools) != 2 || res.Tools[0].Name != "search_tools" {
			t.Fatalf("listed %v %+v", err, res)
		}
		called, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "call_tool", Arguments: map[string]any{"name": "echo", "arguments": map[string]any{"message": "modern"}}})
		if err != nil || called.IsError || textOf(called) != "Echo: modern" {
			t.Fatalf("call_tool: %v %+v", err, called)
		}
	})
	t.Run("a connector without it lists its tools", func(t *testing.T) {
		if got := list(t, "plain"); len(got) < 5 || !slices.Contains(got, "echo") {
			t.Errorf("listed %v", got)
		}
	})
	t.Run("advanced.tool_search null goes back to the gateway's default (off)", func(t *testing.T) {
		var out map[string]any
		if code := g.admin(http.MethodPatch, "/connectors/searched", map[string]any{"advanced": map[string]any{"tool_search": nil}}, &out); code != http.StatusOK {
			t.Fatalf("patch: HTTP %d %v", code, out)
		}
		if got := list(t, "searched"); !slices.Contains(got, "echo") || slices.Contains(got, "search_tools") {
			t.Errorf("listed %v", got)
		}
	})
}

// TestToolSearchSessionless: tool search on a connector whose upstream
// speaks 2026-07-28 (the Go SDK's stateless everything-server), reached
// by a 2026-07-28 client without a session: the passthrough lists the
// meta-tools, searches, and calls through call_tool (denied exactly as a
// direct call; allowed with the result).
func TestToolSearchSessionless(t *testing.T) {
	g := startGateway(t, "")
	g.addConnector(map[string]any{"name": "modern", "slug": "modern", "transport": "streamable-http", "url": startStatelessEverything(t),
		"auth": map[string]any{"kind": "none"}, "advanced": map[string]any{"tool_search": true}})
	g.putRule(t, "no-structured", map[string]any{"subject": "user:local", "connector": "modern", "kind": "tool", "name": "test_image_content",
		"actions": []string{"call"}, "effect": "deny", "description": "not today"})
	var samples atomic.Int32
	sess := goClientVersion(t, g.mcpURL("modern"), "2026-07-28", &samples)
	ctx := ctxFor(t)

	res, err := sess.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tools) != 2 || res.Tools[0].Name != "search_tools" || res.Tools[1].Name != "call_tool" {
		t.Fatalf("listed %+v", res.Tools)
	}
	found, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "search_tools", Arguments: map[string]any{"query": "simple text", "limit": 3}})
	if err != nil || found.IsError || !strings.Contains(textOf(found), `"name":"test_simple_text"`) {
		t.Fatalf("search_tools: %v %q", err, textOf(found))
	}
	called, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "call_tool", Arguments: map[string]any{"name": "test_simple_text"}})
	if err != nil || called.IsError || !strings.Contains(textOf(called), "simple text") {
		t.Fatalf("call_tool: %v %q", err, textOf(called))
	}
	// The upstream checks Mcp-Param-Region against the argument the
	// real tool's schema marks x-mcp-header: the gateway sets it.
	mirrored, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "call_tool", Arguments: map[string]any{"name": "test_x_mcp_header", "arguments": map[string]any{"region": "zürich", "level": 2}}})
	if err != nil {
		t.Errorf("call_tool of an x-mcp-header tool: %v", err)
	} else if mirrored.IsError || textOf(mirrored) != "region=zürich" {
		t.Errorf("call_tool of an x-mcp-header tool: %q (isError %v)", textOf(mirrored), mirrored.IsError)
	}
	_, viaErr := sess.CallTool(ctx, &mcp.CallToolParams{Name: "call_tool", Arguments: map[string]any{"name": "test_image_content"}})
	_, directErr := sess.CallTool(ctx, &mcp.CallToolParams{Name: "test_image_content"})
	if viaErr == nil || directErr == nil || viaErr.Error() != directErr.Error() || !strings.Contains(viaErr.Error(), "not today") {
		t.Errorf("via call_tool %v, direct %v: want the same denial", viaErr, directErr)
	}
}

// TestToolSearchTypeScriptClient: the official TypeScript SDK client on
// /mcp with tool search on lists the meta-tools, searches, and calls
// through call_tool: a denied tool with the very denial of a direct call,
// an allowed one with its result.
func TestToolSearchTypeScriptClient(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(cfg, []byte("tool_search:\n  aggregate: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGatewayArgs(t, []string{"serve", "--config", cfg})
	g.addConnector(everythingSTDIO("everything"))
	g.putRule(t, "no-sums", map[string]any{"subject": "user:local", "connector": "everything", "kind": "tool", "name": "get-sum",
		"actions": []string{"call"}, "effect": "deny", "description": "sums go through finance"})
	s := openTSSession(t, "ts-search", g.base+"/mcp", "", "none")

	if got := s.list(t, "tools"); !slices.Equal(got, []string{"search_tools", "call_tool"}) {
		t.Fatalf("listed %v", got)
	}
	if r := s.call(t, "search_tools", map[string]any{"query": "sum of two numbers", "limit": 1}); r.Error != nil || r.IsError || !strings.Contains(r.Text, `"name":"everything__get-sum"`) {
		t.Fatalf("search_tools: %s", r)
	}
	via := s.call(t, "call_tool", map[string]any{"name": "everything__get-sum", "arguments": map[string]any{"a": 1, "b": 2}})
	direct := s.call(t, "everything__get-sum", map[string]any{"a": 1, "b": 2})
	deniedByPolicy(t, "call_tool of get-sum", via, "sums go through finance")
	if direct.Error == nil || via.Error.Code != direct.Error.Code || via.Error.Message != direct.Error.Message || !sameJSON(string(via.Error.Data), string(direct.Error.Data)) {
		t.Errorf("via call_tool %s, direct %s", via, direct)
	}
	if r := s.call(t, "call_tool", map[string]any{"name": "everything__echo", "arguments": map[string]any{"message": "ts"}}); r.Error != nil || r.IsError || r.Text != "Echo: ts" {
		t.Errorf("call_tool echo: %s", r)
	}
}
