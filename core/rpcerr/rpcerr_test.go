package rpcerr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

func TestMapping(t *testing.T) {
	denied := mcp.NewError(mcp.CodePolicyDenied, "no")
	for _, tc := range []struct {
		name     string
		got      func() *mcp.Error
		wantCode int
		wantText string
	}{
		{"a client-facing error passes For unchanged", func() *mcp.Error { return For(fmt.Errorf("wrapped: %w", denied)) }, mcp.CodePolicyDenied, "no"},
		{"a lost session is an invalid request", func() *mcp.Error { return For(fmt.Errorf("x: %w", ErrSessionNotFound)) }, mcp.CodeInvalidRequest, "session not found"},
		{"a closed upstream is unavailable", func() *mcp.Error { return For(upstream.ErrClosed) }, mcp.CodeUpstreamUnavailable, "upstream unavailable"},
		{"anything else is internal", func() *mcp.Error { return For(io.ErrUnexpectedEOF) }, mcp.CodeInternalError, "internal error"},
		{"a connector's failure names it", func() *mcp.Error { return ForConnector("files", io.EOF) }, mcp.CodeUpstreamUnavailable, `connector "files" is unavailable`},
		{"a connector's client-facing error passes", func() *mcp.Error { return ForConnector("files", denied) }, mcp.CodePolicyDenied, "no"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.got()
			if e.Code != tc.wantCode || !strings.Contains(e.Message, tc.wantText) {
				t.Fatalf("got %d %q, want %d containing %q", e.Code, e.Message, tc.wantCode, tc.wantText)
			}
		})
	}
}

func TestUnavailableKeepsWhatCallersBranchOn(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		same bool
	}{
		{"a timeout stays a timeout", context.DeadlineExceeded, true},
		{"a cancellation stays one", context.Canceled, true},
		{"a client-facing error stays", mcp.NewError(mcp.CodeToolHeld, "held"), true},
		{"a transport failure is wrapped", io.ErrUnexpectedEOF, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Unavailable("files", tc.err)
			if (got == tc.err) != tc.same {
				t.Fatalf("Unavailable(%v) = %v", tc.err, got)
			}
			var e *mcp.Error
			if !tc.same && (!errors.As(got, &e) || e.Code != mcp.CodeUpstreamUnavailable) {
				t.Fatalf("Unavailable(%v) = %v, want code %d", tc.err, got, mcp.CodeUpstreamUnavailable)
			}
		})
	}
}

func TestForCall(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		wantCode int
		wantText string
	}{
		{"no answer in time is a timeout naming the wait", fmt.Errorf("next: %w", context.DeadlineExceeded), mcp.CodeUpstreamTimeout, "did not answer tools/call within 2s"},
		{"a stream ended unanswered is a protocol error", io.EOF, mcp.CodeUpstreamProtocol, "ended the stream without answering tools/call"},
		{"a lost session stays one", ErrSessionNotFound, mcp.CodeInvalidRequest, "session not found"},
		{"a failure is the connector's unavailability", errors.New("connection refused"), mcp.CodeUpstreamUnavailable, `connector "files" is unavailable: connection refused`},
		{"a client-facing error passes", mcp.NewError(mcp.CodeLimitReached, "limit"), mcp.CodeLimitReached, "limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := ForCall("files", mcp.MethodToolsCall, tc.err, 2e9)
			if e.Code != tc.wantCode || !strings.Contains(e.Message, tc.wantText) {
				t.Fatalf("got %d %q, want %d containing %q", e.Code, e.Message, tc.wantCode, tc.wantText)
			}
		})
	}
}
