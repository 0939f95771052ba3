// Package rpcerr is the one mapping from the gateway's Go errors to the
// JSON-RPC errors clients see: a client-facing *mcp.Error passes as it
// is, a transport failure becomes "connector unavailable", anything else
// an internal error that names no internals beyond its message.
package rpcerr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// ErrSessionNotFound: the client's session expired, was closed, or is
// someone else's.
var ErrSessionNotFound = errors.New("session not found")

// Unavailable wraps a transport failure of connector slug for the
// client. Client-facing errors and the context's own (a timeout or a
// cancellation the caller branches on) pass through unchanged.
func Unavailable(slug string, err error) error {
	var rpcErr *mcp.Error
	if errors.As(err, &rpcErr) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &mcp.Error{Code: mcp.CodeUpstreamUnavailable, Message: fmt.Sprintf("connector %q is unavailable: %v", slug, err)}
}

// ForConnector is the client's error for a failed exchange with
// connector slug: a client-facing error as it is, anything else the
// connector's unavailability.
func ForConnector(slug string, err error) *mcp.Error {
	var rpcErr *mcp.Error
	if errors.As(err, &rpcErr) {
		return rpcErr
	}
	return mcp.Errorf(mcp.CodeUpstreamUnavailable, "connector %q is unavailable: %v", slug, err)
}

// For is the client's error for err when no connector is named: a
// client-facing error as it is, a lost session or upstream as such, and
// anything else an internal error.
func For(err error) *mcp.Error {
	var rpcErr *mcp.Error
	if errors.As(err, &rpcErr) {
		return rpcErr
	}
	if errors.Is(err, ErrSessionNotFound) {
		return mcp.NewError(mcp.CodeInvalidRequest, "session not found: it expired or was closed; initialize a new session")
	}
	if errors.Is(err, upstream.ErrUnavailable) || errors.Is(err, upstream.ErrClosed) || errors.Is(err, upstream.ErrSessionExpired) {
		return mcp.Errorf(mcp.CodeUpstreamUnavailable, "upstream unavailable: %v", err)
	}
	return mcp.NewError(mcp.CodeInternalError, fmt.Sprintf("internal error: %v", err))
}

// ForCall is the client's error for a call to connector slug whose
// answer did not come: no message within timeout, a stream that ended
// without the answer, or a failure (as ForConnector, but a lost session
// stays one).
func ForCall(slug, method string, err error, timeout time.Duration) *mcp.Error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return mcp.Errorf(mcp.CodeUpstreamTimeout, "connector %q did not answer %s within %s", slug, method, timeout)
	case errors.Is(err, io.EOF):
		return mcp.Errorf(mcp.CodeUpstreamProtocol, "connector %q ended the stream without answering %s", slug, method)
	case errors.Is(err, ErrSessionNotFound):
		return For(err)
	}
	return ForConnector(slug, err)
}
