//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// tsOutput is what test/e2e/node/client.mjs prints (see its README).
type tsOutput struct {
	OK              bool    `json:"ok"`
	Error           string  `json:"error"`
	ProtocolVersion *string `json:"protocolVersion"`
	SessionID       *string `json:"sessionId"`
	ServerInfo      struct {
		Name string `json:"name"`
	} `json:"serverInfo"`
	Result json.RawMessage `json:"result"`
}

// runTS runs one scenario of the official TypeScript SDK client and
// decodes its result into result.
func runTS(t *testing.T, url, transport, scenario string, result any, extra ...string) tsOutput {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(here), "node", "client.mjs")
	cmd := exec.Command(peers.node, append([]string{script, "--url", url, "--transport", transport, "--scenario", scenario}, extra...)...)
	cmd.Env = append(cmd.Environ(), "GATEHOUSE_TOOLS="+peers.tools, "GATEHOUSE_NODE_MODULES="+peers.nodeModules)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var o tsOutput
	if jerr := json.Unmarshal(out, &o); jerr != nil {
		t.Fatalf("%s over %s: no JSON result (%v, %v)\nstdout: %s\nstderr: %s", scenario, transport, err, jerr, out, tail(stderr.String(), 2000))
	}
	if !o.OK || err != nil {
		t.Fatalf("%s over %s failed: %s\nstderr: %s", scenario, transport, o.Error, tail(stderr.String(), 2000))
	}
	if err := json.Unmarshal(o.Result, result); err != nil {
		t.Fatalf("%s over %s: decode result %s: %v", scenario, transport, o.Result, err)
	}
	return o
}

// tsScenario is one client.mjs scenario and what its result must hold;
// run executes the scenario and decodes its result.
type tsScenario struct {
	name  string
	check func(t *testing.T, run func(result any))
}

// tsScenarios cover every scenario client.mjs supports, against
// server-everything reached through the gateway.
var tsScenarios = []tsScenario{
	{"list-tools", func(t *testing.T, run func(result any)) {
		var r struct {
			Count int      `json:"count"`
			Tools []string `json:"tools"`
		}
		run(&r)
		// 15 with the sampling and elicitation capabilities the client declares.
		if r.Count != 15 || len(r.Tools) != r.Count {
			t.Errorf("listed %d tools (%d names), want 15: %v", r.Count, len(r.Tools), r.Tools)
		}
		for _, want := range []string{"echo", "get-structured-content", "get-resource-links", "trigger-long-running-operation", "trigger-sampling-request", "trigger-elicitation-request"} {
			if !slices.Contains(r.Tools, want) {
				t.Errorf("%s not listed: %v", want, r.Tools)
			}
		}
	}},
	{"call-echo", func(t *testing.T, run func(result any)) {
		var r struct {
			Text string `json:"text"`
		}
		run(&r)
		if r.Text != "Echo: hello from gatehouse e2e" {
			t.Errorf("echo text %q", r.Text)
		}
	}},
	{"call-structured", func(t *testing.T, run func(result any)) {
		var r struct {
			HasOutputSchema   bool           `json:"hasOutputSchema"`
			StructuredContent map[string]any `json:"structuredContent"`
		}
		run(&r)
		sc := r.StructuredContent
		temp, tok := sc["temperature"].(float64)
		cond, cok := sc["conditions"].(string)
		hum, hok := sc["humidity"].(float64)
		if !r.HasOutputSchema || len(sc) != 3 || !tok || !cok || !hok || temp != 33 || cond != "Cloudy" || hum != 82 {
			t.Errorf("outputSchema %v, structuredContent %v; want {temperature:33 conditions:Cloudy humidity:82}", r.HasOutputSchema, sc)
		}
	}},
	{"resource-links", func(t *testing.T, run func(result any)) {
		var r struct {
			Count int `json:"count"`
			Links []struct {
				Type string `json:"type"`
				URI  string `json:"uri"`
			} `json:"links"`
		}
		run(&r)
		if r.Count != 3 || len(r.Links) != 3 {
			t.Fatalf("%d resource links (%d listed), want 3", r.Count, len(r.Links))
		}
		for i, l := range r.Links {
			if l.Type != "resource_link" || !strings.HasPrefix(l.URI, "demo://resource/dynamic/") || !strings.HasSuffix(l.URI, fmt.Sprintf("/%d", i+1)) {
				t.Errorf("link %d: %+v", i, l)
			}
		}
	}},
	{"progress", func(t *testing.T, run func(result any)) {
		var r struct {
			ProgressNotifications int `json:"progressNotifications"`
			Progress              []struct {
				Progress float64 `json:"progress"`
				Total    float64 `json:"total"`
			} `json:"progress"`
			Text string `json:"text"`
		}
		run(&r)
		// The tool runs 4 steps, each reported once on the wire.
		if r.ProgressNotifications < 4 || len(r.Progress) != r.ProgressNotifications {
			t.Fatalf("%d progress notifications (%d recorded), want at least the 4 steps", r.ProgressNotifications, len(r.Progress))
		}
		for i, p := range r.Progress[:4] {
			if p.Progress != float64(i+1) || p.Total != 4 {
				t.Errorf("progress %d: %v of %v, want %d of 4", i, p.Progress, p.Total, i+1)
			}
		}
		if !strings.Contains(r.Text, "Steps: 4") {
			t.Errorf("tool text %q", r.Text)
		}
	}},
	{"read-resource", func(t *testing.T, run func(result any)) {
		var r struct {
			Listed    int      `json:"listed"`
			Resources []string `json:"resources"`
			Read      string   `json:"read"`
			Contents  []struct {
				URI        string `json:"uri"`
				MimeType   string `json:"mimeType"`
				TextLength int    `json:"textLength"`
				TextStart  string `json:"textStart"`
			} `json:"contents"`
		}
		run(&r)
		const doc = "demo://resource/static/document/architecture.md"
		if r.Listed != 7 || len(r.Resources) != 7 || r.Read != doc {
			t.Errorf("listed %d %v, read %q; want 7 starting with %s", r.Listed, r.Resources, r.Read, doc)
		}
		if len(r.Contents) != 1 || r.Contents[0].URI != doc || r.Contents[0].MimeType != "text/markdown" ||
			r.Contents[0].TextLength < 100 || !strings.HasPrefix(r.Contents[0].TextStart, "# Everything Server") {
			t.Errorf("contents %+v", r.Contents)
		}
	}},
	{"get-prompt", func(t *testing.T, run func(result any)) {
		var r struct {
			Prompts  []string `json:"prompts"`
			Messages []struct {
				Role    string `json:"role"`
				Content struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"content"`
			} `json:"messages"`
		}
		run(&r)
		if !slices.Equal(r.Prompts, []string{"simple-prompt", "args-prompt", "completable-prompt", "resource-prompt"}) {
			t.Errorf("prompts %v", r.Prompts)
		}
		if len(r.Messages) != 1 || r.Messages[0].Role != "user" || r.Messages[0].Content.Text != "This is a simple prompt without arguments." {
			t.Errorf("prompt messages %+v", r.Messages)
		}
	}},
	{"sampling", func(t *testing.T, run func(result any)) {
		var r struct {
			SamplingRequests int `json:"samplingRequests"`
			Request          struct {
				MaxTokens int `json:"maxTokens"`
				Messages  []struct {
					Content struct {
						Text string `json:"text"`
					} `json:"content"`
				} `json:"messages"`
			} `json:"request"`
			Text string `json:"text"`
		}
		run(&r)
		// The server's request reached the client intact, and the
		// client's answer reached the server (the tool quotes it).
		if r.SamplingRequests != 1 || r.Request.MaxTokens != 50 || len(r.Request.Messages) != 1 || !strings.Contains(r.Request.Messages[0].Content.Text, "Say hello to the gateway") {
			t.Errorf("%d sampling requests, request %+v", r.SamplingRequests, r.Request)
		}
		if !strings.Contains(r.Text, "canned sampling reply from gatehouse e2e") || !strings.Contains(r.Text, "gatehouse-e2e-model") {
			t.Errorf("tool text %q lacks the sampled reply", r.Text)
		}
	}},
	{"elicitation", func(t *testing.T, run func(result any)) {
		var r struct {
			ElicitationRequests int      `json:"elicitationRequests"`
			RequestedFields     []string `json:"requestedFields"`
			Text                string   `json:"text"`
		}
		run(&r)
		if r.ElicitationRequests != 1 || !slices.Contains(r.RequestedFields, "name") || !slices.Contains(r.RequestedFields, "email") {
			t.Errorf("%d elicitation requests for fields %v", r.ElicitationRequests, r.RequestedFields)
		}
		for _, want := range []string{`"action": "accept"`, "- Name: Gatehouse E2E", "- Email: e2e@example.com", "- Favorite Integer: 7"} {
			if !strings.Contains(r.Text, want) {
				t.Errorf("tool text lacks %q:\n%s", want, r.Text)
			}
		}
	}},
}

// TestTSSDKClientThroughGateway drives the gateway with the official
// TypeScript SDK client over Streamable HTTP (/mcp/{slug}) and the legacy
// HTTP+SSE transport (/sse/{slug}), to server-everything over each
// upstream transport: one gateway and upstream per upstream kind, every
// client.mjs scenario on each client transport.
func TestTSSDKClientThroughGateway(t *testing.T) {
	for _, up := range everythingUpstreams() {
		t.Run("to "+up.name+" upstream", func(t *testing.T) {
			g := startGateway(t, "")
			g.addConnector(up.connector(t))
			for _, tr := range []struct{ name, url, aggregate string }{
				{"http", g.mcpURL("everything"), g.base + "/mcp"},
				{"sse", g.base + "/sse/everything", g.base + "/sse"},
			} {
				t.Run("over "+tr.name, func(t *testing.T) {
					// The two client transports use separate sessions.
					t.Parallel()
					for _, sc := range tsScenarios {
						t.Run(sc.name, func(t *testing.T) {
							sc.check(t, func(result any) {
								o := runTS(t, tr.url, tr.name, sc.name, result)
								// The session is the upstream's. Streamable HTTP
								// has a protocol version and a session id; the SSE
								// transport has neither.
								if o.ServerInfo.Name != "mcp-servers/everything" {
									t.Errorf("serverInfo.name %q", o.ServerInfo.Name)
								}
								if hasSession := o.ProtocolVersion != nil && o.SessionID != nil; hasSession != (tr.name == "http") {
									t.Errorf("protocolVersion %s, sessionId %s over %s", deref(o.ProtocolVersion), deref(o.SessionID), tr.name)
								}
							})
						})
					}
					t.Run("the aggregate endpoint lists the connector's tools namespaced", func(t *testing.T) {
						var r struct {
							Tools []string `json:"tools"`
						}
						o := runTS(t, tr.aggregate, tr.name, "list-tools", &r)
						if o.ServerInfo.Name != "gatehouse" || !slices.Contains(r.Tools, "everything__echo") || len(r.Tools) != 15 {
							t.Errorf("serverInfo %q, tools %v", o.ServerInfo.Name, r.Tools)
						}
					})
				})
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}
