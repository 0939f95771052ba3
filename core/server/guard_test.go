package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/proxy"
	"github.com/gatehouse-mcp/gatehouse/core/toolguard"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// markerGuard is a guard written against ABI 1.0 (it reads only
// output.text): it blocks INJECT and redacts SECRETKEY.
type markerGuard struct{}

func (markerGuard) Implements(hook string) bool { return hook == guard.HookToolCall }

func (markerGuard) CallWithin(_ context.Context, _ string, input []byte, _ time.Duration) (guard.Verdict, error) {
	var in guard.Input
	if err := json.Unmarshal(input, &in); err != nil || in.Output == nil {
		return guard.Verdict{}, err
	}
	text := in.Output.Text
	if strings.Contains(text, "INJECT") {
		return guard.Block(1, guard.Reason{Code: "inj", Message: "an injection"}), nil
	}
	var reds []guard.Redaction
	for off := 0; ; {
		i := strings.Index(text[off:], "SECRETKEY")
		if i < 0 {
			break
		}
		reds = append(reds, guard.Redaction{Path: "/output/text", Span: [2]int{off + i, off + i + 9}})
		off += i + 9
	}
	if len(reds) > 0 {
		return guard.Redact(1, reds, guard.Reason{Code: "secret", Message: "a secret"}), nil
	}
	return guard.Allow(), nil
}

// hostileUpstream answers tools/call, prompts/get and resources/read with
// answers[name or uri] (the JSON-RPC members after the id), over legacy
// sessions or, when modern, sessionless 2026-07-28 (as an event stream
// when sse).
type hostileUpstream struct {
	modern, sse bool
	answers     map[string]string
}

func (u *hostileUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	msg, rpcErr := mcp.Parse(body)
	if rpcErr != nil || msg.Kind() != mcp.KindRequest {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	reply := func(members string) {
		out := `{"jsonrpc":"2.0","id":` + string(msg.ID) + `,` + members + `}`
		if strings.HasPrefix(members, "{") { // a whole message, as written
			out = members
		}
		if u.sse {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "event: message\ndata: "+out+"\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, out)
	}
	switch {
	case msg.Method == mcp.MethodServerDiscover && u.modern:
		reply(`"result":{"supportedVersions":["2026-07-28"],"capabilities":{"tools":{},"prompts":{},"resources":{}},"serverInfo":{"name":"hostile","version":"1"}}`)
	case msg.Method == mcp.MethodServerDiscover:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"error":{"code":-32600,"message":"session required"}}`)
	case msg.Method == mcp.MethodInitialize:
		w.Header().Set(mcp.HeaderSessionID, "s1")
		reply(`"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{},"prompts":{},"resources":{}},"serverInfo":{"name":"hostile","version":"1"}}`)
	case u.answers[msg.TargetName()] != "":
		reply(u.answers[msg.TargetName()])
	default:
		reply(`"result":{}`)
	}
}

// guardedGateway runs the gateway with markerGuard in front of the given
// connectors' upstreams (slug → upstream).
func guardedGateway(t *testing.T, upstreams map[string]*hostileUpstream) *fasthttp.Client {
	t.Helper()
	var conns []*connector.Connector
	for slug, u := range upstreams {
		srv := httptest.NewServer(u)
		t.Cleanup(srv.Close)
		conns = append(conns, &connector.Connector{Slug: slug, Name: slug, Transport: connector.TransportStreamableHTTP, URL: srv.URL,
			Auth: connector.Auth{Kind: connector.AuthNone}, Status: connector.StatusActive})
	}
	engine := toolguard.New(toolguard.DefaultSettings())
	engine.SetChain([]toolguard.Entry{{Name: "marker", Module: markerGuard{}, Enabled: true}})
	px := proxy.New(connector.NewRegistry(conns), nil, proxy.Options{CallTimeout: time.Minute, IdleTimeout: time.Hour, AllowPrivateNetworks: true,
		MaxMessageBytes: 1 << 20, Guard: engine}, zerolog.Nop())
	t.Cleanup(px.Close)
	srv := New(px, auth.New(auth.HashToken("unused-token-0123456789"), "guard-user", nil), nil, Options{MaxBodyBytes: 1 << 20}, zerolog.Nop())
	ln := fasthttputil.NewInmemoryListener()
	go srv.Serve(ln)
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()); ln.Close() })
	return &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}
}

// post sends body to /mcp/slug with headers (name, value pairs) and
// returns the status and the answer (an SSE answer's data).
func post(t *testing.T, client *fasthttp.Client, slug, body string, headers ...string) (int, string) {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://gatehouse/mcp/" + slug)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.Set("Accept", "application/json, text/event-stream")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	req.SetBodyString(body)
	if err := client.DoTimeout(req, resp, 30*time.Second); err != nil {
		t.Fatalf("POST /mcp/%s: %v", slug, err)
	}
	out := string(resp.Body())
	if strings.HasPrefix(string(resp.Header.ContentType()), "text/event-stream") {
		var data []string
		for _, line := range strings.Split(out, "\n") {
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				data = append(data, d)
			}
		}
		out = strings.Join(data, "\n")
	}
	return resp.StatusCode(), out
}

// TestGuardsSeeEveryPartInBothEras: whatever part of an answer carries a
// secret or an injection, and whichever era the client and upstream
// speak, the client receives it masked or the gateway's blocked error.
func TestGuardsSeeEveryPartInBothEras(t *testing.T) {
	answers := map[string]string{
		"structured":          `"result":{"content":[{"type":"text","text":"see below"}],"structuredContent":{"creds":{"id":"SECRETKEY","note":"rotate"}}}`,
		"embedded":            `"result":{"content":[{"type":"resource","resource":{"uri":"file:///n","text":"INJECT now"}}]}`,
		"link":                `"result":{"content":[{"type":"resource_link","uri":"file:///n","name":"n","description":"key SECRETKEY here"}]}`,
		"error-message":       `"error":{"code":-32000,"message":"failed with SECRETKEY"}`,
		"error-data":          `"error":{"code":-32000,"message":"failed","data":{"trace":"INJECT"}}`,
		"review":              `"result":{"messages":[{"role":"user","content":{"type":"text","text":"use SECRETKEY"}}]}`,
		"file:///secret.txt":  `"result":{"contents":[{"uri":"file:///secret.txt","text":"INJECT"}]}`,
		"file:///masked.txt":  `"result":{"contents":[{"uri":"file:///masked.txt","text":"k=SECRETKEY"}]}`,
		"dup":                 `{"jsonrpc":"2.0","id":"a7","result":{"content":[{"type":"text","text":"SECRETKEY"}]},"result":{"content":[]}}`,
		"escaped-id":          `{"jsonrpc":"2.0","id":"\u0061\u0037","result":{"content":[{"type":"text","text":"INJECT"}]}}`,
		"escaped-id-redacted": `{"jsonrpc":"2.0","id":"\u0061\u0037","result":{"content":[{"type":"text","text":"SECRETKEY"}]}}`,
	}
	client := guardedGateway(t, map[string]*hostileUpstream{
		"legacy":     {answers: answers},
		"modern":     {modern: true, answers: answers},
		"modern-sse": {modern: true, sse: true, answers: answers},
	})
	session := legacySession(t, client)
	eras := []struct {
		name, slug string
		headers    func(method, name string) []string
		meta       bool
	}{
		{"a legacy session", "legacy", func(string, string) []string { return []string{mcp.HeaderSessionID, session} }, false},
		{"a 2026-07-28 client of a legacy upstream", "legacy", modernHeaders, true},
		{"the 2026-07-28 passthrough", "modern", modernHeaders, true},
		{"the 2026-07-28 passthrough streaming", "modern-sse", modernHeaders, true},
	}
	cases := []struct {
		name, method, target, want string
	}{
		{"a secret in structuredContent", "tools/call", "structured", "redacted"},
		{"an injection in an embedded resource", "tools/call", "embedded", "blocked"},
		{"a secret in a resource link", "tools/call", "link", "redacted"},
		{"a secret in an upstream error's message", "tools/call", "error-message", "redacted"},
		{"an injection in an upstream error's data", "tools/call", "error-data", "blocked"},
		{"a secret in a prompt", "prompts/get", "review", "redacted"},
		{"an injection in a resource", "resources/read", "file:///secret.txt", "blocked"},
		{"a secret in a resource", "resources/read", "file:///masked.txt", "redacted"},
	}
	for _, era := range eras {
		t.Run(era.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					_, got := post(t, client, era.slug, request(tc.method, tc.target, era.meta), era.headers(tc.method, tc.target)...)
					checkGuarded(t, got, tc.want)
				})
			}
		})
	}
	t.Run("the passthrough refuses an answer it cannot read", func(t *testing.T) {
		status, got := post(t, client, "modern", request("tools/call", "dup", true), modernHeaders("tools/call", "dup")...)
		if status != fasthttp.StatusBadGateway || strings.Contains(got, "SECRETKEY") || !strings.Contains(got, "-31055") {
			t.Errorf("HTTP %d %s", status, got)
		}
	})
	for _, slug := range []string{"modern", "modern-sse"} {
		t.Run("an answer whose id is the request's spelt otherwise is guarded ("+slug+")", func(t *testing.T) {
			_, got := post(t, client, slug, request("tools/call", "escaped-id", true), modernHeaders("tools/call", "escaped-id")...)
			checkGuarded(t, got, "blocked")
			_, got = post(t, client, slug, request("tools/call", "escaped-id-redacted", true), modernHeaders("tools/call", "escaped-id-redacted")...)
			checkGuarded(t, got, "redacted")
		})
	}
}

func checkGuarded(t *testing.T, got, want string) {
	t.Helper()
	if strings.Contains(got, "SECRETKEY") || strings.Contains(got, "INJECT") {
		t.Fatalf("the client receives %s", got)
	}
	switch want {
	case "blocked":
		if !strings.Contains(got, `"code":-31056`) {
			t.Errorf("want the gateway's blocked error, got %s", got)
		}
	case "redacted":
		if !strings.Contains(got, "[redacted]") {
			t.Errorf("want the secret masked, got %s", got)
		}
	}
}

// legacySession opens a legacy session on /mcp/legacy and returns its id.
func legacySession(t *testing.T, client *fasthttp.Client) string {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://gatehouse/mcp/legacy")
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.SetBodyString(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	if err := client.Do(req, resp); err != nil {
		t.Fatal(err)
	}
	id := string(resp.Header.Peek(mcp.HeaderSessionID))
	if id == "" {
		t.Fatalf("no session: %s", resp.Body())
	}
	return id
}

func modernHeaders(method, name string) []string {
	return []string{mcp.HeaderProtocolVersion, mcp.Version20260728, mcp.HeaderMethod, method, mcp.HeaderName, name}
}

// request is a request with id "a7" for method naming target (a tool or
// prompt name, or a resource URI), with 2026-07-28 _meta when meta.
func request(method, target string, meta bool) string {
	params := map[string]any{"name": target, "arguments": map[string]any{}}
	if method == "resources/read" {
		params = map[string]any{"uri": target}
	}
	if meta {
		params["_meta"] = map[string]any{mcp.MetaProtocolVersion: mcp.Version20260728, mcp.MetaClientCapabilities: map[string]any{}}
	}
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": "a7", "method": method, "params": params})
	return string(b)
}
