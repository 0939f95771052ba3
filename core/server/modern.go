package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// isModernRequest reports whether a sessionless POST follows 2026-07-28:
// anything but a plain legacy initialize.
func isModernRequest(ctx *fasthttp.RequestCtx, m *mcp.Message) bool {
	if len(ctx.Request.Header.Peek(mcp.HeaderSessionID)) > 0 {
		return false
	}
	header := string(ctx.Request.Header.Peek(mcp.HeaderProtocolVersion))
	if mcp.IsLegacyVersion(header) {
		return false // a legacy client without its session: tell it so
	}
	if m.Method != mcp.MethodInitialize {
		return true
	}
	return header == mcp.Version20260728 || m.MetaProtocolVersionOf() != ""
}

// handleModern forwards a sessionless request to a modern upstream and
// relays its answer (status, body or stream) as it came; a legacy-only
// upstream is reached through translation (handleDowngraded).
func (s *Server) handleModern(ctx *fasthttp.RequestCtx, principal auth.Principal, slug string, msg *mcp.Message) {
	conn, ok, err := s.proxy.ModernUpstream(s.base, principal, slug)
	if err != nil {
		e := toRPCError(err)
		status := fasthttp.StatusOK
		if e.Code == mcp.CodeConnectorNotFound {
			status = fasthttp.StatusNotFound
		}
		writeRPCError(ctx, status, msg.ID, e)
		return
	}
	if !ok {
		s.handleDowngraded(ctx, principal, slug, msg)
		return
	}
	// The request runs the chain (held tools, policies, argument
	// validation, approvals asked back through input_required, guards,
	// audit) with conn as its upstream; what comes back is written as is.
	timeout := s.proxy.CallTimeout()
	if msg.Method == mcp.MethodSubscriptionsListen {
		timeout = 0 // a subscription lives as long as the client keeps it
	}
	r := s.proxy.Sessionless(s.base, principal, slug, conn, msg, forwardHeaders(&ctx.Request.Header))
	switch {
	case r.Err != nil:
		writeRPCError(ctx, r.Status, msg.ID, r.Err)
	case r.Failed != nil:
		status := fasthttp.StatusBadGateway
		if errors.Is(r.Failed, context.DeadlineExceeded) {
			status = fasthttp.StatusOK
		}
		writeRPCError(ctx, status, msg.ID, sessionlessError(slug, msg, r.Failed, s.proxy.CallTimeout()))
	case r.Stream != nil:
		startSSE(ctx)
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			defer r.Done()
			s.pump(w, r.Stream, func(m *mcp.Message) bool { return isAnswer(m, msg) }, func(err error) *mcp.Message {
				return mcp.NewErrorResponse(msg.ID, sessionlessError(slug, msg, err, timeout))
			}, timeout)
		})
	default:
		ctx.SetStatusCode(r.Status)
		if r.ContentType != "" {
			ctx.SetContentType(r.ContentType)
		}
		ctx.SetBody(r.Body)
	}
}

// forwardHeaders picks the request headers a modern upstream routes and
// validates on: protocol version, Mcp-Method, Mcp-Name and Mcp-Param-*.
func forwardHeaders(h *fasthttp.RequestHeader) map[string]string {
	out := make(map[string]string, 4)
	for k, v := range h.All() {
		switch {
		case bytes.EqualFold(k, []byte(mcp.HeaderProtocolVersion)),
			bytes.EqualFold(k, []byte(mcp.HeaderMethod)),
			bytes.EqualFold(k, []byte(mcp.HeaderName)),
			len(k) > len("Mcp-Param-") && bytes.EqualFold(k[:len("Mcp-Param-")], []byte("Mcp-Param-")):
			out[string(k)] = string(v)
		}
	}
	return out
}

// handleDowngraded serves a modern request from a legacy-only upstream
// through the proxy's translation, with the 2026-07-28 HTTP statuses.
func (s *Server) handleDowngraded(ctx *fasthttp.RequestCtx, principal auth.Principal, slug string, msg *mcp.Message) {
	// The gateway is the 2026-07-28 server here: the version header must
	// agree with the body's _meta before anything else is judged.
	if h := string(ctx.Request.Header.Peek(mcp.HeaderProtocolVersion)); h != "" {
		if v := msg.MetaProtocolVersionOf(); v != "" && v != h {
			writeRPCError(ctx, fasthttp.StatusBadRequest, msg.ID, mcp.Errorf(mcp.CodeHeaderMismatch, "header mismatch: MCP-Protocol-Version %q does not match _meta protocolVersion %q", h, v))
			return
		}
	}
	if e := requireModernHeaders(&ctx.Request.Header, msg); e != nil {
		writeRPCError(ctx, fasthttp.StatusBadRequest, msg.ID, e)
		return
	}
	// Held tools, policies and approvals are checked by the legacy
	// session the translation runs on (Session.Call).
	timeout := s.proxy.CallTimeout()
	if msg.Method == mcp.MethodSubscriptionsListen {
		timeout = 0
	}
	st, err := s.proxy.Modern(s.base, principal, slug, msg, paramHeaders(&ctx.Request.Header))
	if err != nil {
		e := toRPCError(err)
		writeRPCError(ctx, modernStatus(e), msg.ID, e)
		return
	}
	firstCtx, cancel := context.WithTimeout(context.Background(), s.proxy.CallTimeout())
	first, err := st.Next(firstCtx)
	cancel()
	if err != nil {
		st.Close()
		// The translation bounds its own waits with the same timeout;
		// whichever fires first, the client learns it was a timeout.
		writeRPCError(ctx, fasthttp.StatusOK, msg.ID, sessionlessError(slug, msg, err, s.proxy.CallTimeout()))
		return
	}
	if isAnswer(first, msg) {
		st.Close()
		status := fasthttp.StatusOK
		if first.Error != nil {
			status = modernStatus(first.Error)
		}
		ctx.SetStatusCode(status)
		writeJSON(ctx, first.Bytes())
		return
	}
	startSSE(ctx)
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		if writeMessage(w, first) != nil {
			st.Close()
			return
		}
		s.pump(w, st, func(m *mcp.Message) bool { return isAnswer(m, msg) }, func(err error) *mcp.Message {
			return mcp.NewErrorResponse(msg.ID, sessionlessError(slug, msg, err, timeout))
		}, timeout)
	})
}

// modernStatus is the HTTP status 2026-07-28 gives a JSON-RPC error.
func modernStatus(e *mcp.Error) int {
	switch e.Code {
	case mcp.CodeMethodNotFound, mcp.CodeConnectorNotFound:
		return fasthttp.StatusNotFound
	case mcp.CodeInvalidParams, mcp.CodeInvalidRequest, mcp.CodeHeaderMismatch, -32021, -32022:
		return fasthttp.StatusBadRequest
	default:
		return fasthttp.StatusOK
	}
}

// paramHeaders collects the Mcp-Param-* headers, names lowercased and
// without the prefix.
func paramHeaders(h *fasthttp.RequestHeader) map[string]string {
	var out map[string]string
	const prefix = "mcp-param-"
	for k, v := range h.All() {
		if len(k) > len(prefix) && bytes.EqualFold(k[:len(prefix)], []byte(prefix)) {
			if out == nil {
				out = map[string]string{}
			}
			out[strings.ToLower(string(k[len(prefix):]))] = string(v)
		}
	}
	return out
}

// sessionlessError explains a failed modern (sessionless) call: a timeout,
// a stream that ended without the answer, or an unreachable upstream.
func sessionlessError(slug string, req *mcp.Message, err error, timeout time.Duration) *mcp.Error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return mcp.Errorf(mcp.CodeUpstreamTimeout, "connector %q did not answer %s within %s", slug, req.Method, timeout)
	case errors.Is(err, io.EOF):
		return mcp.Errorf(mcp.CodeUpstreamProtocol, "connector %q ended the stream without answering %s", slug, req.Method)
	default:
		return toRPCError(unavailable(slug, err))
	}
}
