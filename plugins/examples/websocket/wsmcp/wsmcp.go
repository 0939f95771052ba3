// Package wsmcp serves an official Go SDK MCP server over WebSocket (one
// JSON-RPC message per text frame): the test upstream of the websocket
// transport plugin.
package wsmcp

import (
	"context"
	"net/http"

	"github.com/coder/websocket"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Handler accepts WebSocket connections and runs one session of the server
// newServer returns on each. check, when set, vets the handshake request
// (a header the connector must send) and answers false to refuse it.
func Handler(newServer func() *mcp.Server, check func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if check != nil && !check(r) {
			http.Error(w, "refused", http.StatusUnauthorized)
			return
		}
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"mcp"}})
		if err != nil {
			return
		}
		ss, err := newServer().Connect(r.Context(), &transport{c: c}, nil)
		if err != nil {
			c.Close(websocket.StatusInternalError, err.Error())
			return
		}
		_ = ss.Wait()
	})
}

// transport is an mcp.Transport over one accepted WebSocket connection.
type transport struct{ c *websocket.Conn }

func (t *transport) Connect(context.Context) (mcp.Connection, error) { return &conn{c: t.c}, nil }

type conn struct{ c *websocket.Conn }

func (c *conn) Read(ctx context.Context) (jsonrpc.Message, error) {
	_, b, err := c.c.Read(ctx)
	if err != nil {
		return nil, err
	}
	return jsonrpc.DecodeMessage(b)
}

func (c *conn) Write(ctx context.Context, m jsonrpc.Message) error {
	b, err := jsonrpc.EncodeMessage(m)
	if err != nil {
		return err
	}
	return c.c.Write(ctx, websocket.MessageText, b)
}

func (c *conn) Close() error      { return c.c.Close(websocket.StatusNormalClosure, "") }
func (c *conn) SessionID() string { return "" }
