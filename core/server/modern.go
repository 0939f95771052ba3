package server

import (
	"bufio"
	"bytes"
	"context"

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
	if m.Method != mcp.MethodInitialize {
		return true
	}
	return string(ctx.Request.Header.Peek(mcp.HeaderProtocolVersion)) == mcp.Version20260728 || m.MetaProtocolVersionOf() != ""
}

// handleModern forwards a sessionless request to a modern upstream and
// relays its answer (status, body or stream) as it came. A legacy-only
// upstream gets the client a 4xx without a modern error body, which tells
// modern clients to fall back to initialize (MCP.md, compatibility).
func (s *Server) handleModern(ctx *fasthttp.RequestCtx, principal auth.Principal, slug string, msg *mcp.Message) {
	conn, ok, err := s.proxy.ModernUpstream(ctx, principal, slug)
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
		writeRPCError(ctx, fasthttp.StatusBadRequest, msg.ID, mcp.Errorf(mcp.CodeInvalidRequest,
			"bad request: connector %q speaks MCP up to %s: send initialize first and then the Mcp-Session-Id header", slug, mcp.LatestLegacyVersion))
		return
	}
	timeout := s.proxy.CallTimeout()
	if msg.Method == mcp.MethodSubscriptionsListen {
		timeout = 0 // a subscription lives as long as the client keeps it
	}
	callCtx, cancel := context.WithCancel(context.Background())
	reply, err := conn.Forward(callCtx, msg, forwardHeaders(&ctx.Request.Header))
	if err != nil {
		cancel()
		writeRPCError(ctx, fasthttp.StatusBadGateway, msg.ID, toRPCError(unavailable(slug, err)))
		return
	}
	if reply.Stream == nil {
		cancel()
		ctx.SetStatusCode(reply.Status)
		if reply.ContentType != "" {
			ctx.SetContentType(reply.ContentType)
		}
		ctx.SetBody(reply.Body)
		return
	}
	st := reply.Stream
	startSSE(ctx)
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer cancel()
		defer st.Close()
		s.pump(w, st, func(m *mcp.Message) bool { return isAnswer(m, msg) }, func(err error) *mcp.Message {
			return mcp.NewErrorResponse(msg.ID, toRPCError(unavailable(slug, err)))
		}, timeout)
	})
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
