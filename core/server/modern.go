package server

import (
	"bufio"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/era"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/rpcerr"
)

// handleModern writes the proxy's answer to a sessionless 2026-07-28
// request (slug "": the aggregate): status and body, or its stream, as
// they come. Which era the upstream speaks and what each demands is
// decided below, in core/proxy and core/era.
func (s *Server) handleModern(ctx *fasthttp.RequestCtx, principal auth.Principal, slug string, msg *mcp.Message, h era.Header) {
	timeout := s.proxy.CallTimeout()
	if msg.Method == mcp.MethodSubscriptionsListen {
		timeout = 0 // a subscription lives as long as the client keeps it
	}
	r := s.proxy.ServeModern(s.base, principal, slug, msg, h)
	switch {
	case r.Err != nil:
		writeRPCError(ctx, r.Status, msg.ID, r.Err)
	case r.Failed != nil:
		writeRPCError(ctx, r.Status, msg.ID, rpcerr.ForCall(slug, msg.Method, r.Failed, s.proxy.CallTimeout()))
	case r.Stream != nil:
		startSSE(ctx)
		ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			defer r.Done()
			s.pump(w, r.Stream, func(m *mcp.Message) bool { return isAnswer(m, msg) }, func(err error) *mcp.Message {
				return mcp.NewErrorResponse(msg.ID, rpcerr.ForCall(slug, msg.Method, err, timeout))
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
