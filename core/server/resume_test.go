package server

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/sse"
)

// slowUpstream answers tools/call with an SSE stream: a progress
// notification at once, the result only when release is closed.
func slowUpstream(t *testing.T, release <-chan struct{}) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		msg, rpcErr := mcp.Parse(body)
		if rpcErr != nil || msg.Kind() != mcp.KindRequest {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		switch msg.Method {
		case mcp.MethodInitialize:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set(mcp.HeaderSessionID, "s")
			io.WriteString(w, `{"jsonrpc":"2.0","id":`+string(msg.ID)+`,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"slow","version":"1"}}}`)
		case mcp.MethodToolsCall:
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":1}}\n\n")
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
			io.WriteString(w, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":"+string(msg.ID)+",\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"done\"}]}}\n\n")
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestALostStreamResumesWithLastEventID(t *testing.T) {
	release := make(chan struct{})
	up := slowUpstream(t, release)
	fc, session := benchGateway(t, up.URL)
	// net/http over the same in-memory listener, to read SSE incrementally.
	client := &http.Client{Transport: &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) {
		return fc.Dial("gatehouse:80")
	}}}
	do := func(method, body, lastEventID string) *http.Response {
		// The bound only keeps a broken gateway from hanging the test.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		t.Cleanup(cancel)
		req, _ := http.NewRequestWithContext(ctx, method, "http://gatehouse/mcp/bench", strings.NewReader(body))
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set(mcp.HeaderSessionID, session)
		if lastEventID != "" {
			req.Header.Set(mcp.HeaderLastEventID, lastEventID)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	resp := do(http.MethodPost, `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"slow","_meta":{"progressToken":1}}}`, "")
	first, err := sse.NewReader(resp.Body, 1<<20).Next()
	if err != nil || !strings.Contains(string(first.Data), "notifications/progress") || first.ID == "" {
		t.Fatalf("first event = %+v, %v", first, err)
	}
	resp.Body.Close() // the client loses the stream mid-call

	resumed := do(http.MethodGet, "", first.ID)
	defer resumed.Body.Close()
	close(release) // the upstream answers while the client is away
	ev, err := sse.NewReader(bufio.NewReader(resumed.Body), 1<<20).Next()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ev.Data), `"id":9`) || !strings.Contains(string(ev.Data), "done") {
		t.Errorf("resumed stream delivered %s, want the call's answer", ev.Data)
	}
	if ev.ID == first.ID || ev.ID == "" {
		t.Errorf("resumed event id %q after %q", ev.ID, first.ID)
	}
}

func TestParseEventID(t *testing.T) {
	tests := []struct {
		in     string
		stream string
		seq    int
		ok     bool
	}{
		{"abc_3", "abc", 3, true},
		{"abc_0", "abc", 0, true},
		{"abc", "", 0, false},
		{"abc_-1", "abc", -1, false},
		{"abc_x", "abc", 0, false},
	}
	for _, tc := range tests {
		stream, seq, ok := parseEventID(tc.in)
		if ok != tc.ok || (ok && (stream != tc.stream || seq != tc.seq)) {
			t.Errorf("parseEventID(%q) = %q, %d, %v", tc.in, stream, seq, ok)
		}
	}
}
