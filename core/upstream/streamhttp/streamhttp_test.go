package streamhttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/upstreamtest"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/streamhttp"
)

// echoserver is the path of the fixture built by TestMain.
var echoserver string

func TestMain(m *testing.M) { upstreamtest.RunWithEchoserver(m, &echoserver) }

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// fixture is a running echoserver -http process.
type fixture struct {
	addr   string
	cmd    *exec.Cmd
	exited chan struct{}
}

func (f *fixture) url() string { return "http://" + f.addr + "/mcp" }

// startFixture runs the echoserver on port and waits until it accepts connections.
func startFixture(t *testing.T, port int, args ...string) *fixture {
	t.Helper()
	f := &fixture{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), exited: make(chan struct{})}
	f.cmd = exec.Command(echoserver, append([]string{"-http", f.addr}, args...)...)
	f.cmd.Stderr = os.Stderr
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		f.cmd.Wait()
		close(f.exited)
	}()
	t.Cleanup(f.stop)
	ctx := upstreamtest.Guard(t)
	for {
		conn, err := net.Dial("tcp", f.addr)
		if err == nil {
			conn.Close()
			return f
		}
		select {
		case <-f.exited:
			t.Fatalf("echoserver exited before listening on %s", f.addr)
		case <-ctx.Done():
			t.Fatalf("echoserver does not accept connections on %s", f.addr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (f *fixture) stop() {
	f.cmd.Process.Kill()
	<-f.exited
}

func newConn(t *testing.T, rawURL string) (*streamhttp.Conn, *http.Client) {
	t.Helper()
	client := streamhttp.NewClient()
	c := streamhttp.New(streamhttp.Config{URL: rawURL, Client: client, Log: zerolog.New(zerolog.NewTestWriter(t))})
	t.Cleanup(func() {
		c.Close()
		client.CloseIdleConnections()
	})
	return c, client
}

func resultText(t *testing.T, m *mcp.Message) string {
	t.Helper()
	if m.Error != nil {
		t.Fatalf("error response: %v", m.Error)
	}
	var r struct {
		Content []struct{ Text string } `json:"content"`
	}
	if err := json.Unmarshal(m.Result, &r); err != nil || len(r.Content) == 0 {
		t.Fatalf("result %s has no text content", m.Result)
	}
	return r.Content[0].Text
}

// exchange is one request seen by the recorder.
type exchange struct {
	method, session, version, lastEventID string
	status                                int
	contentType                           string
}

// recorder is a reverse proxy that notes every exchange with the upstream.
type recorder struct {
	mu  sync.Mutex
	log []exchange
	url string
}

func newRecorder(t *testing.T, target string) *recorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(&url.URL{Scheme: u.Scheme, Host: u.Host}) },
		ModifyResponse: func(resp *http.Response) error {
			r := resp.Request
			rec.mu.Lock()
			rec.log = append(rec.log, exchange{
				method:      r.Method,
				session:     r.Header.Get(mcp.HeaderSessionID),
				version:     r.Header.Get(mcp.HeaderProtocolVersion),
				lastEventID: r.Header.Get(mcp.HeaderLastEventID),
				status:      resp.StatusCode,
				contentType: resp.Header.Get("Content-Type"),
			})
			rec.mu.Unlock()
			return nil
		},
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	rec.url = srv.URL + u.Path
	return rec
}

func (r *recorder) exchanges() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]exchange(nil), r.log...)
}

func TestAgainstEchoserver(t *testing.T) {
	t.Run("initialize sets the session that later requests carry", func(t *testing.T) {
		f := startFixture(t, freePort(t))
		rec := newRecorder(t, f.url())
		c, _ := newConn(t, rec.url)
		upstreamtest.Initialize(t, c, mcp.Version20250618)
		if got := resultText(t, upstreamtest.RoundTrip(t, c, upstreamtest.ToolCall(t, 1, "echo", `{"message":"hi"}`))); got != "hi" {
			t.Errorf("echo = %q, want hi", got)
		}
		log := rec.exchanges()
		if len(log) != 3 {
			t.Fatalf("saw %d exchanges, want initialize, initialized, echo", len(log))
		}
		if log[0].session != "" || log[0].version != "" {
			t.Errorf("initialize carried session %q version %q, want neither", log[0].session, log[0].version)
		}
		sid := log[1].session
		for _, e := range log[1:] {
			if e.session == "" || e.session != sid || e.version != mcp.Version20250618 {
				t.Errorf("%s carried session %q version %q, want the session and %s", e.method, e.session, e.version, mcp.Version20250618)
			}
		}
		if log[2].contentType != "application/json" {
			t.Errorf("echo came as %q, want JSON", log[2].contentType)
		}
	})
	t.Run("echo works with SSE responses", func(t *testing.T) {
		f := startFixture(t, freePort(t), "-sse-responses")
		rec := newRecorder(t, f.url())
		c, _ := newConn(t, rec.url)
		upstreamtest.Initialize(t, c, mcp.Version20250618)
		if got := resultText(t, upstreamtest.RoundTrip(t, c, upstreamtest.ToolCall(t, 1, "echo", `{"message":"over sse"}`))); got != "over sse" {
			t.Errorf("echo = %q, want \"over sse\"", got)
		}
		log := rec.exchanges()
		if ct := log[len(log)-1].contentType; ct != "text/event-stream" {
			t.Errorf("echo came as %q, want text/event-stream", ct)
		}
	})
	t.Run("progress notifications arrive over SSE before the result", func(t *testing.T) {
		f := startFixture(t, freePort(t))
		c, _ := newConn(t, f.url())
		upstreamtest.Initialize(t, c, mcp.Version20250618)
		s, err := c.Call(upstreamtest.Guard(t), upstreamtest.Request(t, 1, mcp.MethodToolsCall, `{"name":"progress","arguments":{"steps":3},"_meta":{"progressToken":9}}`))
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := upstreamtest.Collect(t, s)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 4 {
			t.Fatalf("got %d messages, want 3 progress notifications and the result", len(msgs))
		}
		for _, m := range msgs[:3] {
			if m.Method != mcp.MethodProgress || string(m.NotificationProgressToken()) != "9" {
				t.Errorf("got %s, want progress for token 9", m.Bytes())
			}
		}
		if msgs[3].Kind() != mcp.KindResponse || msgs[3].IDKey() != "1" {
			t.Errorf("last message %s, want the response to id 1", msgs[3].Bytes())
		}
	})
	t.Run("a sampling request arrives on the call's stream and its answer completes the call", func(t *testing.T) {
		f := startFixture(t, freePort(t))
		c, _ := newConn(t, f.url())
		upstreamtest.Initialize(t, c, mcp.Version20250618)
		ctx := upstreamtest.Guard(t)
		s, err := c.Call(ctx, upstreamtest.ToolCall(t, 1, "sample", `{}`))
		if err != nil {
			t.Fatal(err)
		}
		req, err := s.Next(ctx)
		if err != nil || req.Method != "sampling/createMessage" {
			t.Fatalf("Next = %v, %v; want the sampling request", req, err)
		}
		answer, _ := mcp.NewResult(req.ID, map[string]any{"role": "assistant", "model": "m", "content": map[string]string{"type": "text", "text": "sampled"}})
		if err := c.Send(ctx, answer); err != nil {
			t.Fatalf("Send: %v", err)
		}
		msgs, err := upstreamtest.Collect(t, s)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("after the answer: %d messages, %v", len(msgs), err)
		}
		if got := resultText(t, msgs[0]); got != "sampled" {
			t.Errorf("result %q, want sampled", got)
		}
	})
	t.Run("a crash mid-call is unavailable", func(t *testing.T) {
		f := startFixture(t, freePort(t))
		c, _ := newConn(t, f.url())
		upstreamtest.Initialize(t, c, mcp.Version20250618)
		_, err := c.Call(upstreamtest.Guard(t), upstreamtest.ToolCall(t, 1, "crash", `{}`))
		if !errors.Is(err, upstream.ErrUnavailable) {
			t.Errorf("Call = %v, want ErrUnavailable", err)
		}
	})
	t.Run("a session the restarted upstream forgot is expired", func(t *testing.T) {
		port := freePort(t)
		f := startFixture(t, port)
		c, client := newConn(t, f.url())
		upstreamtest.Initialize(t, c, mcp.Version20250618)
		upstreamtest.RoundTrip(t, c, upstreamtest.Request(t, 1, mcp.MethodPing, ""))
		f.stop()
		client.CloseIdleConnections()
		startFixture(t, port)
		_, err := c.Call(upstreamtest.Guard(t), upstreamtest.Request(t, 2, mcp.MethodPing, ""))
		if !errors.Is(err, upstream.ErrSessionExpired) {
			t.Errorf("Call = %v, want ErrSessionExpired", err)
		}
	})
	t.Run("Close ends the session with DELETE", func(t *testing.T) {
		f := startFixture(t, freePort(t))
		rec := newRecorder(t, f.url())
		c, _ := newConn(t, rec.url)
		upstreamtest.Initialize(t, c, mcp.Version20250618)
		if err := c.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		log := rec.exchanges()
		last := log[len(log)-1]
		if last.method != http.MethodDelete || last.session == "" || last.status != http.StatusOK {
			t.Fatalf("last exchange %+v, want a successful DELETE with the session", last)
		}
		// The upstream no longer knows the session.
		req, _ := http.NewRequest(http.MethodPost, f.url(), strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		req.Header.Set(mcp.HeaderSessionID, last.session)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST with the deleted session: HTTP %d, want 404", resp.StatusCode)
		}
		if _, err := c.Call(upstreamtest.Guard(t), upstreamtest.Request(t, 2, mcp.MethodPing, "")); !errors.Is(err, upstream.ErrClosed) {
			t.Errorf("Call after Close = %v, want ErrClosed", err)
		}
	})
	t.Run("Listen on an upstream without a GET stream stays silent", func(t *testing.T) {
		f := startFixture(t, freePort(t))
		c, _ := newConn(t, f.url())
		upstreamtest.Initialize(t, c, mcp.Version20250618)
		ctx, cancel := context.WithCancel(context.Background())
		s, err := c.Listen(ctx)
		if err != nil {
			t.Fatalf("Listen: %v", err)
		}
		cancel()
		if _, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Next = %v, want context.Canceled", err)
		}
	})
}

// resumingServer answers a POST with a priming event and closes the stream;
// the response comes on the GET that resumes after the priming event.
type resumingServer struct {
	mu          sync.Mutex
	id          json.RawMessage
	lastEventID string
	gets        int
}

func (s *resumingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	switch r.Method {
	case http.MethodPost:
		var m struct {
			ID json.RawMessage `json:"id"`
		}
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &m)
		s.mu.Lock()
		s.id = m.ID
		s.mu.Unlock()
		io.WriteString(w, "id: prime-1\nretry: 10\ndata: \n\n")
	case http.MethodGet:
		s.mu.Lock()
		s.lastEventID = r.Header.Get(mcp.HeaderLastEventID)
		s.gets++
		id := s.id
		s.mu.Unlock()
		fmt.Fprintf(w, "id: ev-2\ndata: {\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"resumed\":true}}\n\n", id)
	}
}

func TestResumption(t *testing.T) {
	t.Run("a stream closed after a priming event is resumed with Last-Event-ID", func(t *testing.T) {
		rs := &resumingServer{}
		srv := httptest.NewServer(rs)
		t.Cleanup(srv.Close)
		c, _ := newConn(t, srv.URL)
		s, err := c.Call(upstreamtest.Guard(t), upstreamtest.Request(t, 7, mcp.MethodToolsCall, `{"name":"slow"}`))
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := upstreamtest.Collect(t, s)
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		if len(msgs) != 1 || msgs[0].IDKey() != "7" || string(msgs[0].Result) != `{"resumed":true}` {
			t.Fatalf("stream yielded %d messages, want the resumed response", len(msgs))
		}
		rs.mu.Lock()
		defer rs.mu.Unlock()
		if rs.gets != 1 || rs.lastEventID != "prime-1" {
			t.Errorf("saw %d GETs with Last-Event-ID %q, want one with prime-1", rs.gets, rs.lastEventID)
		}
	})
	t.Run("a stream closed without an event id is unavailable", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\n\n")
		}))
		t.Cleanup(srv.Close)
		c, _ := newConn(t, srv.URL)
		s, err := c.Call(upstreamtest.Guard(t), upstreamtest.Request(t, 1, mcp.MethodToolsCall, `{"name":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := upstreamtest.Collect(t, s)
		if len(msgs) != 1 || !errors.Is(err, upstream.ErrUnavailable) {
			t.Errorf("stream yielded %d messages then %v, want the notification then ErrUnavailable", len(msgs), err)
		}
	})
}

func TestUpstreamAnswers(t *testing.T) {
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantErr    error
		wantStatus int // of a wrapped *upstream.StatusError, when not 0
	}{
		{"a server error is unavailable with its status", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
		}, upstream.ErrUnavailable, http.StatusServiceUnavailable},
		{"a 404 before any session is a plain status error", func(w http.ResponseWriter, r *http.Request) {
			http.NotFound(w, r)
		}, upstream.ErrUnavailable, http.StatusNotFound},
		{"a redirect is not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://example.com/steal", http.StatusTemporaryRedirect)
		}, upstream.ErrUnavailable, http.StatusTemporaryRedirect},
		{"202 Accepted to a request is unavailable", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
		}, upstream.ErrUnavailable, 0},
		{"an unexpected content type is unavailable", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>login</html>")
		}, upstream.ErrUnavailable, 0},
		{"a JSON body that is not JSON-RPC is unavailable", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"hello":"world"}`)
		}, upstream.ErrUnavailable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			t.Cleanup(srv.Close)
			c, _ := newConn(t, srv.URL)
			_, err := c.Call(upstreamtest.Guard(t), upstreamtest.Request(t, 1, mcp.MethodPing, ""))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Call = %v, want %v", err, tt.wantErr)
			}
			if tt.wantStatus != 0 {
				var se *upstream.StatusError
				if !errors.As(err, &se) || se.StatusCode != tt.wantStatus {
					t.Errorf("Call = %v, want a StatusError %d", err, tt.wantStatus)
				}
			}
		})
	}
}

func BenchmarkEchoJSON(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(echoserver, "-http", addr)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	for i := 0; ; i++ {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			break
		}
		if i > 1000 {
			b.Fatal("echoserver does not listen")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c := streamhttp.New(streamhttp.Config{URL: "http://" + addr + "/mcp", Log: zerolog.Nop()})
	defer c.Close()
	ctx := context.Background()
	initReq, _ := mcp.NewRequest(json.RawMessage(`0`), mcp.MethodInitialize, json.RawMessage(`{"protocolVersion":"2025-11-25"}`))
	s, err := c.Call(ctx, initReq)
	if err != nil {
		b.Fatal(err)
	}
	s.Next(ctx)
	req, _ := mcp.NewRequest(json.RawMessage(`1`), mcp.MethodToolsCall, json.RawMessage(`{"name":"echo","arguments":{"message":"`+strings.Repeat("a", 512)+`"}}`))
	req.Bytes()
	b.ReportAllocs()
	for b.Loop() {
		s, err := c.Call(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Next(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
