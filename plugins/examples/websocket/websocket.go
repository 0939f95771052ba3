// Package websocket is an example transport plugin: MCP over WebSocket,
// one JSON-RPC message per text frame (subprotocol "mcp"). A connector
// with transport "websocket" and a ws:// or wss:// URL reaches its
// upstream through it; the connector's headers go on the handshake.
package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/coder/websocket"

	"github.com/gatehouse-mcp/gatehouse/sdk/plugin"
)

// Subprotocol is the WebSocket subprotocol MCP sessions ask for.
const Subprotocol = "mcp"

// Transport dials WebSocket MCP servers.
type Transport struct{}

// Open implements plugin.Transport.
func (Transport) Open(ctx context.Context, req plugin.OpenRequest) (plugin.Session, error) {
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, fmt.Errorf("connector %q: url %q is not a ws:// or wss:// URL", req.Connector, req.URL)
	}
	h := http.Header{}
	for k, v := range req.Headers {
		h.Set(k, v)
	}
	c, _, err := websocket.Dial(ctx, req.URL, &websocket.DialOptions{HTTPHeader: h, Subprotocols: []string{Subprotocol}})
	if err != nil {
		return nil, err
	}
	if req.MaxMessageBytes > 0 {
		c.SetReadLimit(req.MaxMessageBytes)
	}
	return session{c}, nil
}

type session struct{ c *websocket.Conn }

func (s session) Send(ctx context.Context, msg []byte) error {
	return s.c.Write(ctx, websocket.MessageText, msg)
}

func (s session) Recv(ctx context.Context) ([]byte, error) {
	typ, b, err := s.c.Read(ctx)
	if err != nil {
		if websocket.CloseStatus(err) == websocket.StatusNormalClosure || errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, err
	}
	if typ != websocket.MessageText {
		return nil, errors.New("upstream sent a binary frame; MCP over WebSocket is text")
	}
	return b, nil
}

func (s session) Close() error { return s.c.Close(websocket.StatusNormalClosure, "") }
