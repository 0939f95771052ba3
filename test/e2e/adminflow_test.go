//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// cli runs `gatehouse ARGS…` against g as the holder of token and returns
// stdout; a non-zero exit fails the test unless wantFail.
func cli(t *testing.T, g *gateway, token string, wantFail bool, args ...string) string {
	t.Helper()
	cmd := exec.Command(peers.bin, args...)
	cmd.Env = append(os.Environ(), "GATEHOUSE_URL="+g.base, "GATEHOUSE_TOKEN="+token)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if wantFail {
		if err == nil {
			t.Fatalf("gatehouse %s succeeded, want a failure; stdout %s", strings.Join(args, " "), stdout.String())
		}
		return stderr.String()
	}
	if err != nil {
		t.Fatalf("gatehouse %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// cliJSON runs a --json command and decodes its output.
func cliJSON(t *testing.T, g *gateway, token string, args ...string) map[string]any {
	t.Helper()
	out := cli(t, g, token, false, append(args, "--json")...)
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("gatehouse %s --json printed %q: %v", strings.Join(args, " "), out, err)
	}
	return v
}

// bearerTransport adds an Authorization header to every request.
type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// TestAdminFlowThroughCLI: a member requests a catalog template, an admin
// approves it, the member calls a tool through the new connector with their
// own API token, and an auditor finds all of it in the audit log — every
// admin step driven through the gatehouse CLI against a running gateway.
func TestAdminFlowThroughCLI(t *testing.T) {
	g := startGateway(t, "", "GATEHOUSE_CLIENT_AUTH=token")
	owner := adminToken

	// An admin-defined template for the reference server installed here
	// (the shipped one runs it through npx, which needs the network).
	tmpl := map[string]any{
		"id": "everything-local", "name": "Everything (local install)", "version": "1.0.0",
		"description": "The MCP reference server, from the test peers.", "publisher": "Model Context Protocol",
		"homepage": "https://github.com/modelcontextprotocol/servers", "category": "developer-tools",
		"hosting": "hosted", "transport": "stdio", "command": peers.node, "args": []string{everythingJS(), "stdio"},
		"auth": map[string]any{"kind": "none"}, "tools": []map[string]any{{"name": "echo", "description": "Echoes"}},
	}
	tmplFile := filepath.Join(t.TempDir(), "template.json")
	data, _ := json.Marshal(tmpl)
	if err := os.WriteFile(tmplFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cli(t, g, owner, false, "catalog", "create", "--file", tmplFile)
	if out := cli(t, g, owner, false, "catalog", "list", "--query", "everything"); !strings.Contains(out, "everything-local") {
		t.Fatalf("catalog list: %s", out)
	}

	tokens := map[string]string{}
	for user, role := range map[string]string{"mia": "member", "ada": "admin", "aud": "auditor"} {
		cli(t, g, owner, false, "users", "create", user, "--role", role)
		out := cliJSON(t, g, owner, "tokens", "create", "--name", "e2e", "--user", user)
		tok, _ := out["token"].(string)
		if !strings.HasPrefix(tok, "gth_") {
			t.Fatalf("tokens create: %v", out)
		}
		tokens[user] = tok
	}
	if who := cliJSON(t, g, tokens["mia"], "whoami"); who["user"] != "mia" {
		t.Fatalf("whoami: %v", who)
	}

	req := cliJSON(t, g, tokens["mia"], "requests", "create", "--template", "everything-local", "--reason", "I need echo", "--slug", "echo-demo")
	id, _ := req["id"].(string)
	if req["status"] != "pending" || id == "" {
		t.Fatalf("requests create: %v", req)
	}
	if msg := cli(t, g, tokens["mia"], true, "requests", "approve", id); !strings.Contains(msg, "403") {
		t.Errorf("a member approving: %q", msg)
	}
	if msg := cli(t, g, tokens["mia"], true, "requests", "create", "--template", "everything-local", "--reason", "again"); !strings.Contains(msg, "409") {
		t.Errorf("a duplicate request: %q", msg)
	}
	approved := cliJSON(t, g, tokens["ada"], "requests", "approve", id, "--note", "enjoy")
	if c, _ := approved["connector"].(map[string]any); c["slug"] != "echo-demo" || c["status"] != "active" {
		t.Fatalf("approve: %v", approved)
	}
	if msg := cli(t, g, tokens["ada"], true, "requests", "approve", id); !strings.Contains(msg, "409") {
		t.Errorf("a double approval: %q", msg)
	}
	if mine := cliJSON(t, g, tokens["mia"], "requests", "show", id); mine["status"] != "approved" || mine["connector"] != "echo-demo" {
		t.Fatalf("the requester sees %v", mine)
	}

	// The member calls a tool through the new connector with their token.
	client := mcp.NewClient(&mcp.Implementation{Name: "admin-flow", Version: "1"}, nil)
	sess, err := client.Connect(ctxFor(t), &mcp.StreamableClientTransport{
		Endpoint: g.mcpURL("echo-demo"), HTTPClient: &http.Client{Transport: bearerTransport{tokens["mia"]}},
	}, nil)
	if err != nil {
		t.Fatalf("connect as mia: %v", err)
	}
	res, err := sess.CallTool(ctxFor(t), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "audited"}})
	if err != nil || textOf(res) != "Echo: audited" {
		t.Fatalf("echo: %v %v", res, err)
	}
	_ = sess.Close()

	// The auditor finds the call (written by the batching writer) and the
	// request's transitions.
	var call map[string]any
	deadline := time.Now().Add(20 * time.Second)
	for call == nil && time.Now().Before(deadline) {
		out := cliJSON(t, g, tokens["aud"], "audit", "query", "--action", "tool.call", "--actor", "mia")
		if es, _ := out["entries"].([]any); len(es) > 0 {
			call = es[0].(map[string]any)
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if call == nil || call["connector"] != "echo-demo" || call["tool"] != "echo" || call["outcome"] != "success" || call["decision"] != "allow" {
		t.Fatalf("tool call audit entry: %v", call)
	}
	if lat, _ := call["latency_ms"].(float64); lat <= 0 {
		t.Errorf("latency %v", call["latency_ms"])
	}
	trail := cli(t, g, tokens["aud"], false, "audit", "query", "--action", "request.")
	for _, want := range []string{"request.create", "request.approve"} {
		if !strings.Contains(trail, want) {
			t.Errorf("audit trail lacks %s:\n%s", want, trail)
		}
	}
	if msg := cli(t, g, tokens["mia"], true, "audit", "query"); !strings.Contains(msg, "403") {
		t.Errorf("a member reading the audit log: %q", msg)
	}
	export := cli(t, g, tokens["aud"], false, "audit", "export", "--action", "tool.call")
	if lines := strings.Split(strings.TrimSpace(export), "\n"); len(lines) != 1 || !strings.Contains(lines[0], `"echo-demo"`) {
		t.Errorf("export: %q", export)
	}
	stats := cliJSON(t, g, tokens["aud"], "analytics", "--connector", "echo-demo")
	if total, _ := stats["total"].(map[string]any); total["calls"] != float64(1) {
		t.Errorf("analytics: %v", stats)
	}

	// Prometheus metrics need a token allowed to read analytics.
	metrics := func(token string) (int, string) {
		r, _ := http.NewRequest(http.MethodGet, g.base+"/metrics", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := metrics(tokens["aud"]); code != 200 || !strings.Contains(body, `gatehouse_tool_calls_total{connector="echo-demo",outcome="success",tool="echo"} 1`) {
		t.Errorf("metrics: HTTP %d\n%s", code, tail(body, 2000))
	}
	if code, _ := metrics(tokens["mia"]); code != http.StatusForbidden {
		t.Errorf("a member reading metrics: HTTP %d", code)
	}

	// Tool policies through the CLI: a rule with a condition, a dry run
	// each way, an export.
	ruleFile := filepath.Join(t.TempDir(), "rule.json")
	if err := os.WriteFile(ruleFile, []byte(`{"subject":"role:member","connector":"echo-demo","kind":"tool","name":"echo","actions":["call"],"effect":"allow","condition":"args.message.startsWith(\"ok\")"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// Approving the request granted mia the connector (rule request-<id>);
	// the admin replaces that grant with a narrower, conditional one.
	if out := cli(t, g, tokens["aud"], false, "policies", "export"); !strings.Contains(out, `"request-`+id+`"`) || !strings.Contains(out, `"user:mia"`) {
		t.Errorf("the requester's grant is not in the export: %q", out)
	}
	cli(t, g, tokens["ada"], false, "policies", "put", "members-echo", "--file", ruleFile)
	cli(t, g, tokens["ada"], false, "policies", "delete", "request-"+id)
	if out := cli(t, g, tokens["aud"], false, "policies", "dry-run", "--user", "mia", "--connector", "echo-demo", "--tool", "echo", "--args", `{"message":"ok then"}`); !strings.HasPrefix(out, "allow (rule members-echo)") {
		t.Errorf("dry-run allow: %q", out)
	}
	if out := cli(t, g, tokens["aud"], false, "policies", "dry-run", "--user", "mia", "--connector", "echo-demo", "--tool", "echo", "--args", `{"message":"no"}`); !strings.HasPrefix(out, "deny") || !strings.Contains(out, "startsWith") {
		t.Errorf("dry-run deny: %q", out)
	}
	if msg := cli(t, g, tokens["mia"], true, "policies", "put", "x", "--file", ruleFile); !strings.Contains(msg, "403") {
		t.Errorf("a member writing policies: %q", msg)
	}
	if out := cli(t, g, tokens["aud"], false, "policies", "export"); !strings.Contains(out, `"members-echo"`) {
		t.Errorf("export: %q", out)
	}

	// A revoked token stops working for MCP clients at once.
	list := cliJSON(t, g, tokens["mia"], "tokens", "list")
	tokID := list["tokens"].([]any)[0].(map[string]any)["id"].(string)
	cli(t, g, tokens["mia"], false, "tokens", "revoke", tokID)
	r, _ := http.NewRequest(http.MethodPost, g.mcpURL("echo-demo"), strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	r.Header.Set("Authorization", "Bearer "+tokens["mia"])
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "revoked") {
		t.Errorf("a revoked token: HTTP %d %s", resp.StatusCode, body)
	}
}
