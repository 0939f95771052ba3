package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/proxy"
	"github.com/gatehouse-mcp/gatehouse/core/sse"
)

// legacyUpstream is a Streamable HTTP server whose tools misbehave on
// demand: "echo" answers, "slow" never does, "vanish" ends its SSE
// response without an answer. It records the notifications it gets.
type legacyUpstream struct {
	stop          chan struct{} // releases "slow" calls at the test's end
	mu            sync.Mutex
	notifications []string
}

func (u *legacyUpstream) seen(method string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, m := range u.notifications {
		if m == method {
			return true
		}
	}
	return false
}

func (u *legacyUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		w.WriteHeader(http.StatusMethodNotAllowed) // no server-to-client stream
		return
	case http.MethodDelete:
		return
	}
	body, _ := io.ReadAll(r.Body)
	msg, rpcErr := mcp.Parse(body)
	if rpcErr != nil {
		http.Error(w, rpcErr.Message, http.StatusBadRequest)
		return
	}
	if msg.Kind() != mcp.KindRequest {
		u.mu.Lock()
		u.notifications = append(u.notifications, msg.Method)
		u.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		return
	}
	var call struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(msg.Params, &call)
	id := string(msg.ID)
	switch {
	case msg.Method == mcp.MethodServerDiscover:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"jsonrpc":"2.0","id":`+id+`,"error":{"code":-32600,"message":"session required"}}`)
	case msg.Method == mcp.MethodInitialize:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(mcp.HeaderSessionID, "legacy-upstream-session")
		io.WriteString(w, `{"jsonrpc":"2.0","id":`+id+`,"result":{"protocolVersion":"2024-11-05","capabilities":{"tools":{}},"serverInfo":{"name":"legacy-upstream","version":"1"}}}`)
	case call.Name == "slow":
		select {
		case <-r.Context().Done():
		case <-u.stop:
		}
	case call.Name == "vanish":
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
	default:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"jsonrpc":"2.0","id":`+id+`,"result":{"content":[{"type":"text","text":"echoed"}]}}`)
	}
}

// legacyGateway is a gateway on an in-memory listener with one connector,
// "echo", in front of a legacyUpstream.
type legacyGateway struct {
	srv      *Server
	proxy    *proxy.Proxy
	client   *http.Client
	upstream *legacyUpstream
}

func startLegacyGateway(t *testing.T, idle time.Duration) *legacyGateway {
	t.Helper()
	up := &legacyUpstream{stop: make(chan struct{})}
	hs := httptest.NewServer(up)
	t.Cleanup(hs.Close)
	t.Cleanup(func() { close(up.stop) })
	reg := connector.NewRegistry([]*connector.Connector{{
		Slug: "echo", Name: "echo", Transport: connector.TransportStreamableHTTP, URL: hs.URL,
		Auth: connector.Auth{Kind: connector.AuthNone}, Status: connector.StatusActive,
	}})
	px := proxy.New(reg, nil, proxy.Options{CallTimeout: 2 * time.Second, IdleTimeout: idle, AllowPrivateNetworks: true, MaxMessageBytes: 1 << 20}, zerolog.Nop())
	t.Cleanup(px.Close)
	srv := New(px, auth.New(auth.HashToken("unused-token-0123456789"), "test-user", nil), nil, Options{MaxBodyBytes: 1 << 20}, zerolog.Nop())
	ln := fasthttputil.NewInmemoryListener()
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		ln.Close()
	})
	client := &http.Client{Transport: &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return ln.Dial() }}}
	t.Cleanup(client.CloseIdleConnections)
	return &legacyGateway{srv: srv, proxy: px, client: client, upstream: up}
}

func (g *legacyGateway) do(t *testing.T, method, path, body string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, "http://gatehouse"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := g.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// post sends one message and returns the status and body of the answer.
func (g *legacyGateway) post(t *testing.T, path, body string) (int, string) {
	t.Helper()
	resp := g.do(t, http.MethodPost, path, body, "Content-Type", "application/json")
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// legacyStream is an open GET stream.
type legacyStream struct {
	endpoint string
	id       string // the stream's session_id
	events   chan *sse.Event
	body     io.Closer
}

func (g *legacyGateway) open(t *testing.T, path string) *legacyStream {
	t.Helper()
	resp := g.do(t, http.MethodGet, path, "", "Accept", "text/event-stream")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("GET %s: HTTP %d %s %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	s := &legacyStream{events: make(chan *sse.Event, 64), body: resp.Body}
	t.Cleanup(func() { resp.Body.Close() })
	go func() {
		defer close(s.events)
		r := sse.NewReader(resp.Body, 1<<20)
		for {
			ev, err := r.Next()
			if err != nil {
				return
			}
			s.events <- ev
		}
	}()
	ev := s.next(t)
	if ev == nil || ev.Type != "endpoint" {
		t.Fatalf("first event %+v, want the endpoint", ev)
	}
	s.endpoint = string(ev.Data)
	_, s.id, _ = strings.Cut(s.endpoint, "session_id=")
	return s
}

// next returns the next event, nil when the stream ended.
func (s *legacyStream) next(t *testing.T) *sse.Event {
	t.Helper()
	select {
	case ev := <-s.events:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
		return nil
	}
}

// message returns the next message on the stream.
func (s *legacyStream) message(t *testing.T) *mcp.Message {
	t.Helper()
	ev := s.next(t)
	if ev == nil {
		t.Fatal("the stream ended")
	}
	if ev.Type != "message" {
		t.Fatalf("event type %q, want message", ev.Type)
	}
	m, rpcErr := mcp.Parse(ev.Data)
	if rpcErr != nil {
		t.Fatalf("event data %s: %v", ev.Data, rpcErr)
	}
	return m
}

func wantErrorCode(t *testing.T, m *mcp.Message, id string, code int) {
	t.Helper()
	if string(m.ID) != id || m.Error == nil || m.Error.Code != code {
		t.Fatalf("got %s, want error %d for id %s", m.Bytes(), code, id)
	}
}

const legacyInit = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

func legacyCall(id int, tool string) string {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": map[string]any{"name": tool, "arguments": map[string]any{}}})
	return string(b)
}

// initialized opens a stream on /sse/echo and completes the handshake.
func (g *legacyGateway) initialized(t *testing.T) *legacyStream {
	t.Helper()
	s := g.open(t, "/sse/echo")
	if code, body := g.post(t, s.endpoint, legacyInit); code != http.StatusAccepted {
		t.Fatalf("initialize: HTTP %d %s", code, body)
	}
	if m := s.message(t); string(m.ID) != "1" || m.Result == nil {
		t.Fatalf("initialize answered %s", m.Bytes())
	}
	if code, body := g.post(t, s.endpoint, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); code != http.StatusAccepted {
		t.Fatalf("notifications/initialized: HTTP %d %s", code, body)
	}
	return s
}

func TestLegacySSERefusals(t *testing.T) {
	g := startLegacyGateway(t, time.Hour)
	tests := []struct {
		name, method, path, origin string
		status, code               int
	}{
		{"a stream on an unknown connector is refused", http.MethodGet, "/sse/nope", "", 404, mcp.CodeConnectorNotFound},
		{"a message for an unknown session_id is refused", http.MethodPost, "/sse/echo/messages?session_id=0123", "", 404, mcp.CodeInvalidRequest},
		{"a message without session_id is refused", http.MethodPost, "/sse/echo/messages", "", 404, mcp.CodeInvalidRequest},
		{"a POST to the stream URL is refused", http.MethodPost, "/sse/echo", "", 404, mcp.CodeInvalidRequest},
		{"other methods are not allowed", http.MethodPut, "/sse/echo", "", 405, mcp.CodeInvalidRequest},
		{"a foreign Origin is refused", http.MethodGet, "/sse/echo", "http://evil.example", 403, mcp.CodeInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.origin != "" {
				hdr = []string{"Origin", tc.origin}
			}
			resp := g.do(t, tc.method, tc.path, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, hdr...)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var m struct {
				JSONRPC string     `json:"jsonrpc"`
				Error   *mcp.Error `json:"error"`
			}
			if err := json.Unmarshal(b, &m); resp.StatusCode != tc.status || err != nil || m.JSONRPC != "2.0" || m.Error == nil || m.Error.Code != tc.code {
				t.Errorf("HTTP %d %s, want %d with JSON-RPC error %d", resp.StatusCode, b, tc.status, tc.code)
			}
		})
	}
}

func TestLegacySSESession(t *testing.T) {
	g := startLegacyGateway(t, time.Hour)
	s := g.open(t, "/sse/echo")

	t.Run("the stream announces a relative endpoint with a 128-bit session id", func(t *testing.T) {
		if !regexp.MustCompile(`^/sse/echo/messages\?session_id=[0-9a-f]{32}$`).MatchString(s.endpoint) {
			t.Errorf("endpoint %q", s.endpoint)
		}
	})
	t.Run("a malformed message is a 400 with a JSON-RPC error", func(t *testing.T) {
		code, body := g.post(t, s.endpoint, `{"jsonrpc":`)
		if code != http.StatusBadRequest || !strings.Contains(body, `"code":-32700`) {
			t.Errorf("HTTP %d %s", code, body)
		}
	})
	t.Run("a request before initialize is accepted and answered with an error", func(t *testing.T) {
		if code, body := g.post(t, s.endpoint, legacyCall(7, "echo")); code != http.StatusAccepted {
			t.Fatalf("HTTP %d %s", code, body)
		}
		wantErrorCode(t, s.message(t), "7", mcp.CodeInvalidRequest)
	})
	t.Run("initialize is answered on the stream", func(t *testing.T) {
		if code, body := g.post(t, s.endpoint, legacyInit); code != http.StatusAccepted {
			t.Fatalf("HTTP %d %s", code, body)
		}
		if m := s.message(t); string(m.ID) != "1" || !strings.Contains(string(m.Result), "legacy-upstream") {
			t.Fatalf("initialize answered %s", m.Bytes())
		}
		if code, body := g.post(t, s.endpoint, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); code != http.StatusAccepted {
			t.Fatalf("notifications/initialized: HTTP %d %s", code, body)
		}
	})
	t.Run("a second initialize on the same stream is refused", func(t *testing.T) {
		g.post(t, s.endpoint, strings.Replace(legacyInit, `"id":1`, `"id":2`, 1))
		wantErrorCode(t, s.message(t), "2", mcp.CodeInvalidRequest)
	})
	t.Run("the stream's session_id is not valid for another connector", func(t *testing.T) {
		if code, body := g.post(t, "/sse/other/messages?session_id="+s.id, legacyCall(3, "echo")); code != http.StatusNotFound {
			t.Errorf("HTTP %d %s", code, body)
		}
	})
	t.Run("a call is answered on the stream", func(t *testing.T) {
		g.post(t, s.endpoint, legacyCall(3, "echo"))
		if m := s.message(t); string(m.ID) != "3" || !strings.Contains(string(m.Result), "echoed") {
			t.Fatalf("call answered %s", m.Bytes())
		}
	})
	t.Run("a call with no answer within the call timeout fails and is cancelled upstream", func(t *testing.T) {
		g.post(t, s.endpoint, legacyCall(4, "slow"))
		wantErrorCode(t, s.message(t), "4", mcp.CodeUpstreamTimeout)
		deadline := time.Now().Add(2 * time.Second)
		for !g.upstream.seen(mcp.MethodCancelled) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if !g.upstream.seen(mcp.MethodCancelled) {
			t.Error("the upstream got no notifications/cancelled")
		}
	})
	t.Run("a call whose upstream stream ends without an answer fails", func(t *testing.T) {
		g.post(t, s.endpoint, legacyCall(5, "vanish"))
		// The code is streamError's, shared with /mcp; what this transport
		// must add is an answer at all, since its stream outlives the call.
		if m := s.message(t); string(m.ID) != "5" || m.Error == nil {
			t.Fatalf("got %s, want an error for id 5", m.Bytes())
		}
	})
}

func TestLegacySSESessionLifetime(t *testing.T) {
	t.Run("the gateway session closes with the stream", func(t *testing.T) {
		g := startLegacyGateway(t, time.Hour)
		s := g.initialized(t)
		sess := g.srv.sseClients.get(s.id).session()
		s.body.Close()
		// The gateway notices a vanished client when a write fails.
		deadline := time.Now().Add(5 * time.Second)
		for i := 10; time.Now().Before(deadline); i++ {
			if _, err := g.proxy.Session(sess.ID, auth.Principal{User: sess.User}); err != nil {
				return
			}
			g.post(t, s.endpoint, legacyCall(i, "echo"))
			time.Sleep(20 * time.Millisecond)
		}
		t.Error("the gateway session is still open after its stream ended")
	})
	t.Run("a session in use outlives the idle timeout; an idle one ends its stream", func(t *testing.T) {
		// Generous margins: calls 100 ms apart against a 1.5 s idle timeout
		// (a loaded machine must stall 15 times longer to flake this), for
		// longer than the timeout in total.
		g := startLegacyGateway(t, 1500*time.Millisecond)
		s := g.initialized(t)
		for i := 10; i < 30; i++ {
			time.Sleep(100 * time.Millisecond)
			if code, body := g.post(t, s.endpoint, legacyCall(i, "echo")); code != http.StatusAccepted {
				t.Fatalf("call %d after %d ms: HTTP %d %s", i, (i-9)*100, code, body)
			}
			if m := s.message(t); m.Result == nil {
				t.Fatalf("call %d answered %s", i, m.Bytes())
			}
		}
		time.Sleep(3 * time.Second)
		if code, body := g.post(t, s.endpoint, legacyCall(30, "echo")); code != http.StatusNotFound {
			t.Errorf("a message after the idle timeout: HTTP %d %s, want 404", code, body)
		}
		if ev := s.next(t); ev != nil {
			t.Errorf("the stream went on after its session closed: %+v", ev)
		}
	})
}

func TestLegacySSEDropsASlowClient(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &sseClient{id: "0123456789abcdef", out: make(chan *mcp.Message, 1), ctx: ctx, cancel: cancel, log: zerolog.Nop()}
	m := &mcp.Message{JSONRPC: "2.0", Method: "notifications/message"}
	if !c.send(m) {
		t.Fatal("the first message was refused")
	}
	if c.send(m) {
		t.Fatal("a message past the outbox bound was queued")
	}
	if ctx.Err() == nil {
		t.Fatal("the slow client's stream was not ended")
	}
	if c.attach(&proxy.Session{ID: "x"}) {
		t.Error("a session was attached to an ended stream")
	}
}
