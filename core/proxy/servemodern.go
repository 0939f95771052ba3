package proxy

import (
	"bytes"
	"context"
	"errors"
	"net/http"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/era"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/rpcerr"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// ServeModern serves a 2026-07-28 request on connector slug (the
// aggregate when ""), whichever era the upstream speaks: probed modern,
// the request runs the chain to the upstream as is (Sessionless); legacy
// (and the aggregate), the gateway is the 2026-07-28 server and
// translates (Modern). h holds the request's era headers.
func (p *Proxy) ServeModern(ctx context.Context, principal auth.Principal, slug string, msg *mcp.Message, h era.Header) SessionlessReply {
	if slug != "" {
		conn, ok, err := p.ModernUpstream(ctx, principal, slug)
		if err != nil {
			return errorReply(rpcerr.For(err))
		}
		if ok {
			return p.Sessionless(ctx, principal, slug, conn, msg, h.Forward())
		}
	}
	return p.downgradedReply(ctx, principal, slug, msg, h)
}

// errorReply is the gateway's error with the status 2026-07-28 gives it.
func errorReply(e *mcp.Error) SessionlessReply {
	return SessionlessReply{Err: e, Status: era.Modern{}.Status(e)}
}

// failedReply is an upstream failure: 502, but 200 for a timeout (the
// gateway's own answer that the upstream was too slow).
func failedReply(err error) SessionlessReply {
	if errors.Is(err, context.DeadlineExceeded) {
		return SessionlessReply{Failed: err, Status: http.StatusOK}
	}
	return SessionlessReply{Failed: err, Status: http.StatusBadGateway}
}

// downgradedReply serves a modern request from a legacy-only upstream
// (or the aggregate) through the translation: the whole answer when it
// comes first, else a stream starting with the first message.
func (p *Proxy) downgradedReply(ctx context.Context, principal auth.Principal, slug string, msg *mcp.Message, h era.Header) SessionlessReply {
	// The gateway is the 2026-07-28 server here: it checks what one must.
	if e := (era.Modern{}).Check(h, msg); e != nil {
		return errorReply(e)
	}
	st, err := p.Modern(ctx, principal, slug, msg, h.Params())
	if err != nil {
		return errorReply(rpcerr.For(err))
	}
	firstCtx, cancel := context.WithTimeout(ctx, p.opts.CallTimeout)
	first, err := st.Next(firstCtx)
	cancel()
	if err != nil {
		st.Close()
		// The translation bounds its own waits with the same timeout;
		// whichever fires first, the client learns it was a timeout.
		return SessionlessReply{Failed: err, Status: http.StatusOK}
	}
	if first.Kind() == mcp.KindResponse && bytes.Equal(first.ID, msg.ID) {
		st.Close()
		status := http.StatusOK
		if first.Error != nil {
			status = era.Modern{}.Status(first.Error)
		}
		return SessionlessReply{Status: status, ContentType: "application/json", Body: first.Bytes()}
	}
	rest := &prepended{first: first, Stream: st}
	return SessionlessReply{Stream: rest, Done: func() { _ = st.Close() }}
}

// prepended is a stream whose first message was read already.
type prepended struct {
	first *mcp.Message
	upstream.Stream
}

func (s *prepended) Next(ctx context.Context) (*mcp.Message, error) {
	if m := s.first; m != nil {
		s.first = nil
		return m, nil
	}
	return s.Stream.Next(ctx)
}
