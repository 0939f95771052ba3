package proxy

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// TestDialerRegistry: a connector's transport picks its dialer from the
// registry; Options.Dialers adds one (a transport plugin's) or replaces a
// built-in, and an unknown transport is a clear error.
func TestDialerRegistry(t *testing.T) {
	errPlugin := errors.New("dialled by the plugin")
	var got DialRequest
	p := New(connector.NewRegistry(nil), nil, Options{IdleTimeout: time.Hour, CallTimeout: time.Minute, MaxMessageBytes: 1 << 20, Dialers: map[connector.Transport]Dialer{
		"websocket": DialFunc(func(_ context.Context, r DialRequest) (upstream.Conn, error) {
			got = r
			return nil, errPlugin
		}),
	}}, zerolog.Nop())
	defer p.Close()
	ws := &connector.Connector{Slug: "ws", Transport: "websocket", URL: "wss://mcp.example.com"}
	if _, err := p.dial(context.Background(), ws, "ada"); !errors.Is(err, errPlugin) {
		t.Fatalf("dial = %v, want the plugin's dialer", err)
	}
	if got.Connector != ws || got.User != "ada" || got.HTTP == nil || got.Headers == nil {
		t.Errorf("the dialer got %+v", got)
	}
	for _, tr := range []connector.Transport{connector.TransportSTDIO, connector.TransportStreamableHTTP, connector.TransportSSE} {
		if p.dialers[tr] == nil {
			t.Errorf("built-in %s dialer missing", tr)
		}
	}
	if _, err := p.dial(context.Background(), &connector.Connector{Slug: "x", Transport: "carrier-pigeon"}, "ada"); err == nil {
		t.Error("an unknown transport dialled")
	}
}
