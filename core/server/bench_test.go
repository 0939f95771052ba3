package server

import (
	"context"
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
)

// echoUpstream is a minimal Streamable HTTP MCP server answering JSON.
func echoUpstream(tb testing.TB) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		msg, rpcErr := mcp.Parse(body)
		if rpcErr != nil {
			http.Error(w, rpcErr.Message, http.StatusBadRequest)
			return
		}
		switch msg.Kind() {
		case mcp.KindNotification, mcp.KindResponse:
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch msg.Method {
		case mcp.MethodInitialize:
			w.Header().Set(mcp.HeaderSessionID, "bench-session")
			io.WriteString(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"bench","version":"1"}}}`)
		case mcp.MethodServerDiscover:
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"error":{"code":-32600,"message":"session required"}}`)
		default:
			io.WriteString(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"result":{"content":[{"type":"text","text":"hello from the bench upstream, a reply of about a hundred bytes of text"}]}}`)
		}
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// benchGateway runs the gateway on an in-memory listener in front of url
// and returns a client bound to it and an initialized session id.
func benchGateway(tb testing.TB, url string) (*fasthttp.Client, string) {
	tb.Helper()
	reg := connector.NewRegistry([]*connector.Connector{{
		Slug: "bench", Name: "bench", Transport: connector.TransportStreamableHTTP, URL: url,
		Auth: connector.Auth{Kind: connector.AuthNone}, Status: connector.StatusActive,
	}})
	px := proxy.New(reg, nil, proxy.Options{CallTimeout: time.Minute, IdleTimeout: time.Hour, AllowPrivateNetworks: true, MaxMessageBytes: 1 << 20}, zerolog.Nop())
	tb.Cleanup(px.Close)
	srv := New(px, auth.New(auth.HashToken("unused-token-0123456789"), "bench-user", nil), nil, Options{MaxBodyBytes: 1 << 20}, zerolog.Nop())
	ln := fasthttputil.NewInmemoryListener()
	go srv.Serve(ln)
	tb.Cleanup(func() { _ = srv.Shutdown(context.Background()); ln.Close() })
	client := &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }, MaxConnsPerHost: 512}

	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://gatehouse/mcp/bench")
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.Set("Accept", "application/json")
	req.SetBodyString(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}`)
	if err := client.Do(req, resp); err != nil || resp.StatusCode() != 200 {
		tb.Fatalf("initialize: %v %d %s", err, resp.StatusCode(), resp.Body())
	}
	return client, string(resp.Header.Peek(mcp.HeaderSessionID))
}

const benchCall = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"a message of roughly one hundred bytes, the size of a small tool call argument"}}}`

func doCall(tb testing.TB, client *fasthttp.Client, session string) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://gatehouse/mcp/bench")
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.Set("Accept", "application/json")
	req.Header.Set(mcp.HeaderSessionID, session)
	req.SetBodyString(benchCall)
	if err := client.Do(req, resp); err != nil || !strings.Contains(string(resp.Body()), `"result"`) {
		tb.Fatalf("tools/call: %v %s", err, resp.Body())
	}
}

// BenchmarkProxyToolsCall measures one tools/call through the whole
// gateway (fasthttp in, session lookup, net/http to the upstream, relay)
// minus the client's network: the gateway's cost per call.
func BenchmarkProxyToolsCall(b *testing.B) {
	client, session := benchGateway(b, echoUpstream(b).URL)
	b.ReportAllocs()
	for b.Loop() {
		doCall(b, client, session)
	}
}

// BenchmarkProxyToolsCallParallel is the same from many goroutines on one
// session.
func BenchmarkProxyToolsCallParallel(b *testing.B) {
	client, session := benchGateway(b, echoUpstream(b).URL)
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			doCall(b, client, session)
		}
	})
}

// BenchmarkUpstreamDirect is the same call straight to the upstream, the
// baseline the gateway's cost adds to.
func BenchmarkUpstreamDirect(b *testing.B) {
	url := echoUpstream(b).URL
	client := &http.Client{}
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(benchCall))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
