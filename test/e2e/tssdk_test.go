//go:build e2e

package e2e

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// tsResult is what test/e2e/node/client.mjs prints.
type tsResult struct {
	OK              bool            `json:"ok"`
	Error           string          `json:"error"`
	ProtocolVersion *string         `json:"protocolVersion"`
	Result          json.RawMessage `json:"result"`
}

// runTS runs one scenario of the official TypeScript SDK client.
func runTS(t *testing.T, url, transport, scenario string) map[string]any {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(here), "node", "client.mjs")
	cmd := exec.Command(peers.node, script, "--url", url, "--transport", transport, "--scenario", scenario)
	cmd.Env = append(cmd.Environ(), "GATEHOUSE_TOOLS="+peers.tools, "GATEHOUSE_NODE_MODULES="+peers.nodeModules)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var r tsResult
	if jerr := json.Unmarshal(out, &r); jerr != nil {
		t.Fatalf("%s over %s: no JSON result (%v, %v)\nstdout: %s\nstderr: %s", scenario, transport, err, jerr, out, tail(stderr.String(), 2000))
	}
	if !r.OK || err != nil {
		t.Fatalf("%s over %s failed: %s\nstderr: %s", scenario, transport, r.Error, tail(stderr.String(), 2000))
	}
	var res map[string]any
	_ = json.Unmarshal(r.Result, &res)
	return res
}

// TestTypeScriptSDKClientThroughGateway drives the gateway with the
// official TypeScript SDK client over Streamable HTTP and over the legacy
// SSE transport, to server-everything over each upstream transport.
func TestTypeScriptSDKClientThroughGateway(t *testing.T) {
	for _, up := range everythingUpstreams() {
		t.Run("to "+up.name+" upstream", func(t *testing.T) {
			g := startGateway(t, "")
			g.addConnector(up.connector(t))
			for _, tr := range []struct{ name, url string }{
				{"http", g.mcpURL("everything")},
				{"sse", g.base + "/sse/everything"},
			} {
				t.Run("over "+tr.name, func(t *testing.T) {
					checks := []struct {
						scenario string
						check    func(t *testing.T, r map[string]any)
					}{
						{"list-tools", func(t *testing.T, r map[string]any) {
							if n, _ := r["count"].(float64); n < 10 {
								t.Errorf("listed %v tools", r["count"])
							}
						}},
						{"call-echo", func(t *testing.T, r map[string]any) {
							if r["text"] != "Echo: hello from gatehouse e2e" {
								t.Errorf("echo text %v", r["text"])
							}
						}},
						{"call-structured", func(t *testing.T, r map[string]any) {
							sc, _ := r["structuredContent"].(map[string]any)
							if _, ok := sc["temperature"].(float64); !ok {
								t.Errorf("structuredContent %v", r["structuredContent"])
							}
						}},
						{"resource-links", func(t *testing.T, r map[string]any) {
							if n, _ := r["count"].(float64); n != 3 {
								t.Errorf("%v resource links, want 3", r["count"])
							}
						}},
						{"progress", func(t *testing.T, r map[string]any) {
							if n, _ := r["progressNotifications"].(float64); n != 4 {
								t.Errorf("%v progress notifications on the wire, want 4", r["progressNotifications"])
							}
						}},
						{"read-resource", func(t *testing.T, r map[string]any) {
							if r["read"] == nil || r["contents"] == nil {
								t.Errorf("read-resource result %v", r)
							}
						}},
						{"get-prompt", func(t *testing.T, r map[string]any) {
							if msgs, _ := r["messages"].([]any); len(msgs) == 0 {
								t.Errorf("prompt messages %v", r["messages"])
							}
						}},
						{"sampling", func(t *testing.T, r map[string]any) {
							if n, _ := r["samplingRequests"].(float64); n != 1 || !strings.Contains(toString(r["text"]), "canned sampling reply") {
								t.Errorf("sampling: %v requests, text %v", r["samplingRequests"], r["text"])
							}
						}},
						{"elicitation", func(t *testing.T, r map[string]any) {
							if n, _ := r["elicitationRequests"].(float64); n != 1 || !strings.Contains(toString(r["text"]), "Gatehouse E2E") {
								t.Errorf("elicitation: %v requests, text %v", r["elicitationRequests"], r["text"])
							}
						}},
					}
					for _, c := range checks {
						t.Run(c.scenario, func(t *testing.T) { c.check(t, runTS(t, tr.url, tr.name, c.scenario)) })
					}
				})
			}
		})
	}
}

func toString(v any) string {
	s, _ := v.(string)
	return s
}
