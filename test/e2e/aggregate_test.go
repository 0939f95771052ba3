//go:build e2e

package e2e

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestAggregateEndpoint drives /mcp, the one endpoint over every connector
// a user may see, with the official Go SDK client of each era.
func TestAggregateEndpoint(t *testing.T) {
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		t.Run("as a "+version+" client", func(t *testing.T) { testAggregate(t, version) })
	}
}

func testAggregate(t *testing.T, version string) {
	g := startGateway(t, "")
	g.addConnector(everythingSTDIO("alpha"))
	g.addConnector(map[string]any{"name": "beta", "slug": "beta", "transport": "streamable-http", "url": startEverythingHTTP(t), "auth": map[string]any{"kind": "none"}})
	hidden := everythingSTDIO("hidden")
	hidden["status"] = "draft" // created by the owner: invisible to the anonymous user "local"
	g.addConnector(hidden)
	off := everythingSTDIO("off")
	off["status"] = "disabled"
	g.addConnector(off)

	var samples atomic.Int32
	sess := goClientVersion(t, g.base+"/mcp", version, &samples)
	if got := sess.InitializeResult().ProtocolVersion; got != version {
		t.Fatalf("negotiated %q, want %q", got, version)
	}
	ctx := ctxFor(t)

	t.Run("lists the tools of every visible active connector, namespaced", func(t *testing.T) {
		var names []string
		for tool, err := range sess.Tools(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, tool.Name)
		}
		for _, want := range []string{"alpha__echo", "beta__echo", "alpha__get-structured-content"} {
			if !contains(names, want) {
				t.Errorf("missing %q in %v", want, names)
			}
		}
		for _, n := range names {
			if strings.HasPrefix(n, "hidden__") || strings.HasPrefix(n, "off__") || !strings.Contains(n, "__") {
				t.Errorf("tools/list shows %q", n)
			}
		}
	})
	t.Run("routes a namespaced call to its connector", func(t *testing.T) {
		for _, slug := range []string{"alpha", "beta"} {
			res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: slug + "__echo", Arguments: map[string]any{"message": slug}})
			if err != nil {
				t.Fatal(err)
			}
			if got := textOf(res); got != "Echo: "+slug {
				t.Errorf("%s__echo returned %q", slug, got)
			}
		}
	})
	t.Run("refuses a tool of a draft connector and a name without a namespace", func(t *testing.T) {
		for _, name := range []string{"hidden__echo", "off__echo", "echo"} {
			res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{"message": "x"}})
			if err == nil && !res.IsError {
				t.Errorf("call %q succeeded: %q", name, textOf(res))
			}
		}
	})
	t.Run("gets a namespaced prompt and reads a listed resource", func(t *testing.T) {
		pr, err := sess.GetPrompt(ctx, &mcp.GetPromptParams{Name: "beta__simple-prompt"})
		if err != nil || len(pr.Messages) == 0 {
			t.Fatalf("prompts/get: %v %v", err, pr)
		}
		lr, err := sess.ListResources(ctx, nil)
		if err != nil || len(lr.Resources) == 0 {
			t.Fatalf("resources/list: %v", err)
		}
		rr, err := sess.ReadResource(ctx, &mcp.ReadResourceParams{URI: lr.Resources[0].URI})
		if err != nil || len(rr.Contents) == 0 {
			t.Fatalf("resources/read %s: %v", lr.Resources[0].URI, err)
		}
	})
	t.Run("relays a connector's sampling request to the client and back", func(t *testing.T) {
		res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "beta__trigger-sampling-request", Arguments: map[string]any{"prompt": "hi", "maxTokens": 5}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(textOf(res), "canned sample reply") || samples.Load() == 0 {
			t.Errorf("sampling result %q after %d samples", textOf(res), samples.Load())
		}
	})
}
