package websocket

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/gatehouse-mcp/gatehouse/plugins/examples/websocket/wsmcp"
	"github.com/gatehouse-mcp/gatehouse/sdk/plugin"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func wsURL(s *httptest.Server) string { return "ws" + strings.TrimPrefix(s.URL, "http") }

func TestOpenRefusesBadInput(t *testing.T) {
	refusing := httptest.NewServer(wsmcp.Handler(func() *mcp.Server { return nil }, func(*http.Request) bool { return false }))
	defer refusing.Close()
	tests := []struct {
		name, url, want string
	}{
		{"an http URL", "http://example.com/mcp", "is not a ws:// or wss:// URL"},
		{"no host", "ws:///mcp", "is not a ws:// or wss:// URL"},
		{"not a URL", "ws://[::1", "is not a ws:// or wss:// URL"},
		{"a refused handshake", wsURL(refusing), "401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Transport{}.Open(ctx(t), plugin.OpenRequest{Connector: "c", URL: tt.url})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestSessionCarriesMCP(t *testing.T) {
	srv := httptest.NewServer(wsmcp.Handler(func() *mcp.Server {
		return mcp.NewServer(&mcp.Implementation{Name: "ws-test", Version: "1"}, nil)
	}, func(r *http.Request) bool { return r.Header.Get("X-Key") == "k" }))
	defer srv.Close()
	s, err := Transport{}.Open(ctx(t), plugin.OpenRequest{Connector: "c", URL: wsURL(srv), Headers: map[string]string{"X-Key": "k"}, MaxMessageBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	if err := s.Send(ctx(t), []byte(init)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Recv(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), `"id":1`) || !strings.Contains(string(got), `"ws-test"`) {
		t.Fatalf("initialize answered %s", got)
	}
}

func TestBinaryFrameIsRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{Subprotocol}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		_ = c.Write(r.Context(), websocket.MessageBinary, []byte{0, 1, 2})
		_, _, _ = c.Read(r.Context())
	}))
	defer srv.Close()
	s, err := Transport{}.Open(ctx(t), plugin.OpenRequest{Connector: "c", URL: wsURL(srv)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Recv(ctx(t)); err == nil || !strings.Contains(err.Error(), "binary frame") {
		t.Fatalf("err %v, want the binary frame refused", err)
	}
}
