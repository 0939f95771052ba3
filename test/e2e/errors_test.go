//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	echoOnce sync.Once
	echoBin  string
	echoErr  error
)

// echoServer builds the hand-written hostile fixture once per test binary.
func echoServer(t *testing.T) string {
	t.Helper()
	echoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gatehouse-e2e-echo")
		if err != nil {
			echoErr = err
			return
		}
		echoBin = filepath.Join(dir, "echoserver")
		out, err := exec.Command("go", "build", "-o", echoBin, "github.com/gatehouse-mcp/gatehouse/test/fixtures/echoserver").CombinedOutput()
		if err != nil {
			echoErr = fmt.Errorf("build echoserver: %v\n%s", err, out)
		}
	})
	if echoErr != nil {
		t.Fatal(echoErr)
	}
	return echoBin
}

// rpcReply is a raw HTTP answer from the gateway.
type rpcReply struct {
	status int
	header http.Header
	msg    struct {
		ID    json.RawMessage `json:"id"`
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Result json.RawMessage `json:"result"`
	}
	body string
}

// post sends body as is to url with the given headers.
func post(t *testing.T, url, body string, headers map[string]string) rpcReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r := rpcReply{status: resp.StatusCode, header: resp.Header, body: string(data)}
	if len(bytes.TrimSpace(data)) > 0 {
		_ = json.Unmarshal(data, &r.msg)
	}
	return r
}

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// openSession initializes a legacy session and returns its id.
func openSession(t *testing.T, url string) string {
	t.Helper()
	r := post(t, url, initBody, nil)
	sid := r.header.Get("Mcp-Session-Id")
	if r.status != 200 || sid == "" || r.msg.Error != nil {
		t.Fatalf("initialize %s: HTTP %d %s", url, r.status, r.body)
	}
	post(t, url, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, map[string]string{"Mcp-Session-Id": sid})
	return sid
}

// closeSession ends a legacy session (HTTP DELETE, as clients should),
// so its STDIO process does not count against the user's limits.
func closeSession(t *testing.T, url, sid string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodDelete, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Mcp-Session-Id", sid)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("close session: %v", err)
	}
	resp.Body.Close()
}

func callTool(t *testing.T, url, sid, name string, args string) rpcReply {
	t.Helper()
	return post(t, url, `{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"`+name+`","arguments":`+args+`}}`, map[string]string{"Mcp-Session-Id": sid})
}

func wantRPCError(t *testing.T, r rpcReply, status, code int, fragment string) {
	t.Helper()
	if r.status != status {
		t.Errorf("HTTP %d, want %d (body %s)", r.status, status, r.body)
	}
	if r.msg.Error == nil {
		t.Fatalf("no JSON-RPC error in %s", r.body)
	}
	if r.msg.Error.Code != code {
		t.Errorf("error code %d, want %d (%s)", r.msg.Error.Code, code, r.msg.Error.Message)
	}
	if !strings.Contains(r.msg.Error.Message, fragment) {
		t.Errorf("error message %q lacks %q", r.msg.Error.Message, fragment)
	}
}

// TestBadInput sends the gateway malformed and hostile input and checks
// each gets its specific error while the gateway keeps serving.
func TestBadInput(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(cfg, []byte("upstream:\n  call_timeout: 2s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGatewayArgs(t, []string{"serve", "--config", cfg})
	echo := echoServer(t)
	g.addConnector(map[string]any{"name": "echo", "slug": "echo", "transport": "stdio", "command": echo, "env": map[string]string{"CONNECTOR_SECRET": "granted-value"}})
	g.addConnector(everythingSTDIO("everything"))
	draft := map[string]any{"name": "draft", "slug": "draft", "transport": "stdio", "command": echo, "status": "draft"}
	g.addConnector(draft)
	url := g.mcpURL("echo")
	sid := openSession(t, url)
	session := map[string]string{"Mcp-Session-Id": sid}

	// liveness: after every hostile case a fresh session elsewhere works.
	alive := func(t *testing.T) {
		t.Helper()
		s := openSession(t, g.mcpURL("everything"))
		defer closeSession(t, g.mcpURL("everything"), s)
		if r := callTool(t, g.mcpURL("everything"), s, "echo", `{"message":"still here"}`); !strings.Contains(r.body, "still here") {
			t.Fatalf("gateway stopped serving: %s", r.body)
		}
	}

	protocol := []struct {
		name     string
		body     string
		headers  map[string]string
		status   int
		code     int
		fragment string
	}{
		{"malformed JSON is a parse error", `{"jsonrpc":"2.0","id":1,`, session, 400, -32700, "parse error"},
		{"a wrong JSON-RPC version is an invalid request", `{"jsonrpc":"1.0","id":1,"method":"tools/list"}`, session, 400, -32600, `"jsonrpc" must be "2.0"`},
		{"a batch is refused", `[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]`, session, 400, -32600, "batches"},
		{"an object id is refused", `{"jsonrpc":"2.0","id":{"a":1},"method":"tools/list"}`, session, 400, -32600, `"id"`},
		{"duplicate members are refused", `{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"ping"}`, session, 400, -32600, "duplicate"},
		{"an unknown method gets the upstream's method-not-found", `{"jsonrpc":"2.0","id":1,"method":"no/such/method"}`, session, 200, -32601, ""},
		{"a request without a session id is refused", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, map[string]string{"MCP-Protocol-Version": "2025-11-25"}, 400, -32600, "Mcp-Session-Id"},
		{"a request with neither a session id nor a protocol version names both", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, nil, 400, -32600, "no Mcp-Session-Id header"},
		{"an unknown session id is not found", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, map[string]string{"Mcp-Session-Id": "0123456789abcdef0123456789abcdef"}, 404, -32600, "session not found"},
		{"a mismatched Mcp-Method header is refused", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, map[string]string{"Mcp-Session-Id": sid, "Mcp-Method": "tools/call"}, 400, -32020, "Mcp-Method"},
		{"a mismatched Mcp-Name header is refused", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}}}`, map[string]string{"Mcp-Session-Id": sid, "Mcp-Name": "crash"}, 400, -32020, "Mcp-Name"},
		{"an unsupported protocol version header is refused", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, map[string]string{"Mcp-Session-Id": sid, "MCP-Protocol-Version": "1999-01-01"}, 400, -32600, "MCP-Protocol-Version"},
		{"a foreign Origin is forbidden", initBody, map[string]string{"Origin": "http://evil.example"}, 403, -32600, "Origin"},
		{"an unknown connector is not found", initBody, nil, 404, -31052, "not found"},
		{"someone else's draft connector is not found", initBody, nil, 404, -31052, "not found"},
	}
	for _, tc := range protocol {
		t.Run(tc.name, func(t *testing.T) {
			target := url
			switch {
			case strings.Contains(tc.name, "unknown connector"):
				target = g.mcpURL("nope")
			case strings.Contains(tc.name, "draft"):
				target = g.mcpURL("draft")
			}
			wantRPCError(t, post(t, target, tc.body, tc.headers), tc.status, tc.code, tc.fragment)
			alive(t)
		})
	}

	t.Run("an oversized body is refused before it is read", func(t *testing.T) {
		// Raw TCP: announce 5 MiB and send none of it; the gateway must
		// answer from the headers alone (a client still writing would see
		// the connection close under it).
		conn, err := net.Dial("tcp", strings.TrimPrefix(g.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /mcp/echo HTTP/1.1\r\nHost: gatehouse\r\nContent-Type: application/json\r\nMcp-Session-Id: %s\r\nContent-Length: %d\r\n\r\n", sid, 5<<20)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var r rpcReply
		r.status, r.body = resp.StatusCode, string(body)
		_ = json.Unmarshal(body, &r.msg)
		wantRPCError(t, r, 413, -32600, "limit")
		alive(t)
	})
	t.Run("a loopback Origin is accepted", func(t *testing.T) {
		if r := post(t, url, initBody, map[string]string{"Origin": "http://localhost:3000"}); r.status != 200 {
			t.Fatalf("HTTP %d: %s", r.status, r.body)
		}
	})
	t.Run("an upstream that crashes mid-call fails that call, and the next call re-dials", func(t *testing.T) {
		wantRPCError(t, callTool(t, url, sid, "crash", `{}`), 200, -31050, "unavailable")
		if r := callTool(t, url, sid, "echo", `{"message":"back"}`); !strings.Contains(r.body, "back") {
			t.Fatalf("after the crash: %s", r.body)
		}
		alive(t)
	})
	t.Run("an upstream that never answers times out with its own code", func(t *testing.T) {
		wantRPCError(t, callTool(t, url, sid, "hang", `{}`), 200, -31054, "did not answer")
		if r := callTool(t, url, sid, "echo", `{"message":"after hang"}`); !strings.Contains(r.body, "after hang") {
			t.Fatalf("after the timeout: %s", r.body)
		}
		alive(t)
	})
	t.Run("an HTTP upstream that never answers times out, in either era", func(t *testing.T) {
		port := freePort(t)
		p := start(t, "echoserver-http", nil, echo, "-http", fmt.Sprintf("127.0.0.1:%d", port))
		waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/mcp", port), p)
		g.addConnector(map[string]any{"name": "echo-http", "slug": "echo-http", "transport": "streamable-http", "url": fmt.Sprintf("http://127.0.0.1:%d/mcp", port), "auth": map[string]any{"kind": "none"}})
		hurl := g.mcpURL("echo-http")
		hsid := openSession(t, hurl)
		wantRPCError(t, callTool(t, hurl, hsid, "hang", `{}`), 200, -31054, "did not answer")
		if r := callTool(t, hurl, hsid, "echo", `{"message":"http after hang"}`); !strings.Contains(r.body, "http after hang") {
			t.Fatalf("after the timeout: %s", r.body)
		}
		modern := `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"hang","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`
		wantRPCError(t, post(t, hurl, modern, map[string]string{"Mcp-Method": "tools/call", "Mcp-Name": "hang"}), 200, -31054, "within")
		alive(t)
	})
	t.Run("a garbage line from a STDIO upstream is dropped and the call still answers", func(t *testing.T) {
		if r := callTool(t, url, sid, "garbage", `{}`); r.msg.Error != nil || r.msg.Result == nil {
			t.Fatalf("garbage: %s", r.body)
		}
	})
	t.Run("the gateway's own secrets never reach a STDIO upstream, its own env does", func(t *testing.T) {
		if r := callTool(t, url, sid, "env", `{"name":"GATEHOUSE_ADMIN_TOKEN"}`); strings.Contains(r.body, adminToken) || !strings.Contains(r.body, `"set":false`) {
			t.Errorf("GATEHOUSE_ADMIN_TOKEN visible upstream: %s", r.body)
		}
		if r := callTool(t, url, sid, "env", `{"name":"CONNECTOR_SECRET"}`); !strings.Contains(r.body, "granted-value") {
			t.Errorf("connector env missing upstream: %s", r.body)
		}
	})
	t.Run("a connector disabled under an open session refuses the next call", func(t *testing.T) {
		s := openSession(t, g.mcpURL("everything"))
		if code := g.admin(http.MethodPatch, "/connectors/everything", map[string]any{"status": "disabled"}, nil); code != 200 {
			t.Fatalf("disable: HTTP %d", code)
		}
		r := callTool(t, g.mcpURL("everything"), s, "echo", `{"message":"x"}`)
		// Disabling closes the connector's sessions: the old session is
		// gone, and a new initialize is refused as disabled.
		if r.status != 404 && (r.msg.Error == nil || r.msg.Error.Code != -31051) {
			t.Errorf("call after disable: HTTP %d %s", r.status, r.body)
		}
		wantRPCError(t, post(t, g.mcpURL("everything"), initBody, nil), 200, -31051, "disabled")
	})
}

// TestAdminBadInput checks that invalid admin requests name what is wrong
// and write nothing.
func TestAdminBadInput(t *testing.T) {
	g := startGateway(t, "")
	g.addConnector(everythingSTDIO("exists"))
	type errBody struct {
		Error struct {
			Code, Message, Field string
		} `json:"error"`
	}
	cases := []struct {
		name   string
		body   map[string]any
		status int
		field  string
	}{
		{"a missing name is named", map[string]any{"slug": "a", "transport": "stdio", "command": "x"}, 422, "name"},
		{"a bad slug is named", map[string]any{"name": "a", "slug": "Bad Slug", "transport": "stdio", "command": "x"}, 422, "slug"},
		{"an unknown transport is named", map[string]any{"name": "a", "transport": "carrier-pigeon", "url": "http://x"}, 422, "transport"},
		{"stdio without a command is named", map[string]any{"name": "a", "transport": "stdio"}, 422, "command"},
		{"http without a url is named", map[string]any{"name": "a", "transport": "streamable-http"}, 422, "url"},
		{"a bad header name is named", map[string]any{"name": "a", "url": "https://example.com/mcp", "headers": map[string]string{"Bad Header": "v"}}, 422, "headers"},
		{"an unknown field is named", map[string]any{"name": "a", "transport": "stdio", "command": "x", "bogus": true}, 400, "bogus"},
		{"a duplicate slug conflicts", map[string]any{"name": "exists", "slug": "exists", "transport": "stdio", "command": "x"}, 409, "slug"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out errBody
			if code := g.admin(http.MethodPost, "/connectors", tc.body, &out); code != tc.status || out.Error.Field != tc.field {
				t.Errorf("HTTP %d field %q (%s), want %d field %q", code, out.Error.Field, out.Error.Message, tc.status, tc.field)
			}
		})
	}
	t.Run("nothing half-written: the listing holds only the first connector", func(t *testing.T) {
		var list struct {
			Total int `json:"total"`
		}
		g.admin(http.MethodGet, "/connectors", nil, &list)
		if list.Total != 1 {
			t.Errorf("%d connectors after the refused writes, want 1", list.Total)
		}
	})
	t.Run("a stale If-Match is refused", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPatch, g.base+"/admin/v1/connectors/exists", strings.NewReader(`{"description":"x"}`))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("If-Match", `"99"`)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusPreconditionFailed {
			t.Errorf("HTTP %d, want 412", resp.StatusCode)
		}
	})
	for _, tc := range []struct{ name, token string }{{"no token", ""}, {"a wrong token", "not-the-token-at-all"}} {
		t.Run("a request with "+tc.name+" is unauthorized", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, g.base+"/admin/v1/connectors", nil)
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("HTTP %d, want 401", resp.StatusCode)
			}
		})
	}
	t.Run("an unknown connector is not found", func(t *testing.T) {
		if code := g.admin(http.MethodGet, "/connectors/nope", nil, nil); code != http.StatusNotFound {
			t.Errorf("HTTP %d", code)
		}
	})
	t.Run("a 2 MiB body is refused and writes nothing", func(t *testing.T) {
		body := `{"name":"Huge","url":"https://example.com/mcp","description":"` + strings.Repeat("x", 2<<20) + `"}`
		req, _ := http.NewRequest(http.MethodPost, g.base+"/admin/v1/connectors", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		// The gateway refuses from the Content-Length, before reading the
		// body, and closes: a client still writing may see its write
		// reset instead of the answer (the headers-only case below reads
		// the answer itself). Either way nothing is written.
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var out struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if resp.StatusCode != http.StatusRequestEntityTooLarge || json.Unmarshal(data, &out) != nil || out.Error.Code != "too_large" {
				t.Errorf("HTTP %d %.200s", resp.StatusCode, data)
			}
		} else if !strings.Contains(err.Error(), "reset") && !strings.Contains(err.Error(), "broken pipe") {
			t.Fatalf("the refusal failed otherwise than by the gateway closing early: %v", err)
		}
		if code := g.admin(http.MethodGet, "/connectors/huge", nil, nil); code != http.StatusNotFound {
			t.Errorf("the oversized connector exists: HTTP %d", code)
		}
	})
	t.Run("a body over the server's limit is refused from its Content-Length, in the admin error shape", func(t *testing.T) {
		// Headers only: the gateway answers before reading the body, so
		// the client reads the answer instead of racing a reset.
		conn, err := net.Dial("tcp", strings.TrimPrefix(g.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /admin/v1/connectors HTTP/1.1\r\nHost: gatehouse\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", adminToken, 8<<20)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(data), `"too_large"`) {
			t.Errorf("HTTP %d %.200s", resp.StatusCode, data)
		}
	})
}
