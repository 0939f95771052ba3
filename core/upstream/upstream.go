// Package upstream connects the gateway to upstream MCP servers. A Conn is
// one upstream session; the transports (stdio, Streamable HTTP, SSE) live in
// sub-packages and share the request router defined here.
package upstream

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// Conn is one session with an upstream MCP server. Implementations are safe
// for concurrent use.
type Conn interface {
	// Call sends a request and returns the stream of messages the server
	// sends in relation to it (progress, logging, server-to-client requests),
	// ending with the response, after which Next returns io.EOF.
	Call(ctx context.Context, req *mcp.Message) (Stream, error)
	// Send delivers a notification, or a response to a server-to-client request.
	Send(ctx context.Context, msg *mcp.Message) error
	// Listen returns the stream of server messages tied to no request
	// (the Streamable HTTP GET stream). It ends when ctx is done or the
	// connection closes.
	Listen(ctx context.Context) (Stream, error)
	// Close ends the session and releases its resources.
	Close() error
}

// Stream yields server messages in the order the server sent them.
type Stream interface {
	// Next blocks for the next message; io.EOF marks the normal end.
	Next(ctx context.Context) (*mcp.Message, error)
	// Close abandons the stream; messages still to come are dropped.
	Close() error
}

// Errors callers branch on.
var (
	// ErrClosed is returned by a Conn used after Close or after its
	// transport died.
	ErrClosed = errors.New("upstream connection closed")
	// ErrSessionExpired means the upstream no longer knows the session; a
	// new session must be initialized.
	ErrSessionExpired = errors.New("upstream session expired")
	// ErrUnavailable wraps failures to reach or start the upstream.
	ErrUnavailable = errors.New("upstream unavailable")
)

// StatusError is an HTTP upstream's non-success answer.
type StatusError struct {
	StatusCode int
	Body       string
}

func (e *StatusError) Error() string {
	msg := "upstream answered HTTP " + strconv.Itoa(e.StatusCode)
	switch e.StatusCode {
	case 401:
		msg += " (it needs credentials: give the connector bearer auth or per-user header values)"
	case 403:
		msg += " (the connector's credentials are refused or lack a scope)"
	}
	if e.Body == "" {
		return msg
	}
	return msg + ": " + e.Body
}

// Framing is how an upstream framed its answer to one request: the
// upstream step tells it, whoever writes the client's answer reads it
// (the gateway mirrors a plain JSON answer as JSON, anything else as a
// stream). A nil *Framing is nobody asking. Safe for concurrent use.
type Framing struct{ json atomic.Bool }

// SetJSON records whether the answer came as one JSON body.
func (f *Framing) SetJSON(v bool) {
	if f != nil {
		f.json.Store(v)
	}
}

// JSON reports whether the answer came as one JSON body.
func (f *Framing) JSON() bool { return f != nil && f.json.Load() }

// PlainJSON reports whether a transport's own stream (as its Call
// returned it, unwrapped) is a plain JSON answer: transports that answer
// so implement PlainJSON() on that stream.
func PlainJSON(s Stream) bool {
	j, ok := s.(interface{ PlainJSON() bool })
	return ok && j.PlainJSON()
}
