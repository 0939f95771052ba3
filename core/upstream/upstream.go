// Package upstream connects the gateway to upstream MCP servers. A Conn is
// one upstream session; the transports (stdio, Streamable HTTP, SSE) live in
// sub-packages and share the request router defined here.
package upstream

import (
	"context"
	"errors"
	"strconv"

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

// AnsweredAsJSON reports whether s is an upstream's plain JSON answer (not
// an SSE stream), looking through wrappers that implement Unwrap. The
// gateway mirrors the upstream's choice to its client.
func AnsweredAsJSON(s Stream) bool {
	for s != nil {
		if j, ok := s.(interface{ PlainJSON() bool }); ok {
			return j.PlainJSON()
		}
		u, ok := s.(interface{ Unwrap() Stream })
		if !ok {
			return false
		}
		s = u.Unwrap()
	}
	return false
}
