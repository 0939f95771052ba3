package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/era"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/proxy"
	"github.com/gatehouse-mcp/gatehouse/core/rpcerr"
	"github.com/gatehouse-mcp/gatehouse/core/sse"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// keepAlive is how often an idle SSE stream gets a comment, which also
// detects clients that went away.
const keepAlive = 15 * time.Second

// serveMCP is the Streamable HTTP transport for /mcp/{slug}.
func (s *Server) serveMCP(ctx *fasthttp.RequestCtx, slug string) {
	principal, ok := s.admitMCP(ctx)
	if !ok {
		return
	}
	switch string(ctx.Method()) {
	case fasthttp.MethodPost:
		s.handlePost(ctx, principal, slug)
	case fasthttp.MethodGet:
		s.handleGet(ctx, principal)
	case fasthttp.MethodDelete:
		s.handleDelete(ctx, principal)
	default:
		ctx.Response.Header.Set("Allow", "GET, POST, DELETE")
		writeRPCError(ctx, fasthttp.StatusMethodNotAllowed, nil, mcp.NewError(mcp.CodeInvalidRequest, "method not allowed: use POST, GET or DELETE"))
	}
}

// session finds the request's session; h is its era headers (nil: read
// them here).
func (s *Server) session(ctx *fasthttp.RequestCtx, principal auth.Principal, id json.RawMessage, h *era.Header) (*proxy.Session, bool) {
	if h == nil {
		read := era.ReadHeader(ctx.Request.Header.All())
		h = &read
	}
	sid := h.SessionID()
	if sid == "" {
		writeRPCError(ctx, fasthttp.StatusBadRequest, id, mcp.NewError(mcp.CodeInvalidRequest, "bad request: the Mcp-Session-Id header is required; send initialize first"))
		return nil, false
	}
	sess, err := s.proxy.Session(sid, principal)
	if err != nil {
		writeRPCError(ctx, fasthttp.StatusNotFound, id, mcp.NewError(mcp.CodeInvalidRequest, "session not found: it expired or was closed; initialize a new session"))
		return nil, false
	}
	// Sessions are legacy-era (sessionless modern requests leave version
	// checks to the upstream).
	if e := (era.Legacy{}).Check(*h, nil); e != nil {
		writeRPCError(ctx, fasthttp.StatusBadRequest, id, e)
		return nil, false
	}
	return sess, true
}

func (s *Server) handlePost(ctx *fasthttp.RequestCtx, principal auth.Principal, slug string) {
	msg, rpcErr := mcp.Parse(ctx.Request.Body())
	if rpcErr != nil {
		var id json.RawMessage
		if msg != nil {
			id = msg.ID
		}
		writeRPCError(ctx, fasthttp.StatusBadRequest, id, rpcErr)
		return
	}
	h := era.ReadHeader(ctx.Request.Header.All())
	if rpcErr := era.CheckHeaders(h, msg); rpcErr != nil {
		writeRPCError(ctx, fasthttp.StatusBadRequest, msg.ID, rpcErr)
		return
	}
	if _, modern := era.Detect(h, msg).(era.Modern); modern {
		s.handleModern(ctx, principal, slug, msg, h)
		return
	}
	if msg.Method == mcp.MethodInitialize && msg.Kind() == mcp.KindRequest {
		s.handleInitialize(ctx, principal, slug, msg)
		return
	}
	sess, ok := s.session(ctx, principal, msg.ID, &h)
	if !ok {
		return
	}
	if sess.Slug != slug {
		writeRPCError(ctx, fasthttp.StatusNotFound, msg.ID, mcp.NewError(mcp.CodeInvalidRequest, "session not found for this connector"))
		return
	}
	if msg.Kind() != mcp.KindRequest {
		if err := sess.Send(s.base, msg); err != nil {
			s.log.Warn().Err(err).Str("connector", slug).Str("method", msg.Method).Msg("forwarding a client message failed")
			writeRPCError(ctx, fasthttp.StatusBadGateway, nil, rpcerr.For(err))
			return
		}
		ctx.SetStatusCode(fasthttp.StatusAccepted)
		return
	}
	s.relayCall(ctx, sess, msg)
}

// handleInitialize opens a legacy session; the proxy resolves the
// connector (a missing one is 404, the legacy era's one status besides
// 200 for a JSON-RPC error).
func (s *Server) handleInitialize(ctx *fasthttp.RequestCtx, principal auth.Principal, slug string, msg *mcp.Message) {
	var (
		sess *proxy.Session
		resp *mcp.Message
		err  error
	)
	if slug == "" {
		sess, resp, err = s.proxy.InitializeAggregate(s.base, principal, msg)
	} else {
		sess, resp, err = s.proxy.Initialize(s.base, principal, slug, msg)
	}
	if err != nil {
		e := rpcerr.For(err)
		writeRPCError(ctx, era.Legacy{}.Status(e), msg.ID, e)
		return
	}
	if sess != nil {
		ctx.Response.Header.Set(mcp.HeaderSessionID, sess.ID)
	}
	writeJSON(ctx, resp.Bytes())
}

// relayCall forwards a request and relays what comes back: a plain JSON
// answer when the first upstream message is the response, else an SSE
// stream carrying progress, logs and server-to-client requests first.
func (s *Server) relayCall(ctx *fasthttp.RequestCtx, sess *proxy.Session, req *mcp.Message) {
	timeout := s.proxy.CallTimeout()
	framing := new(upstream.Framing)
	st, first, cancel, err := firstMessage(s.base, timeout, func(c context.Context) (upstream.Stream, error) { return sess.Relay(c, req, framing) })
	if err != nil {
		writeRPCError(ctx, fasthttp.StatusOK, req.ID, s.streamError(sess, req, err, timeout))
		return
	}
	if isAnswer(first, req) {
		asJSON := framing.JSON() || !acceptsSSE(ctx)
		st.Close()
		cancel()
		if asJSON {
			writeJSON(ctx, first.Bytes())
			return
		}
		// Mirror an SSE upstream (and STDIO, like the SDK servers do) with a
		// one-event stream, written whole: no streaming machinery needed.
		ctx.SetContentType("text/event-stream")
		ctx.Response.Header.Set("Cache-Control", "no-cache, no-transform")
		ctx.SetBody(sse.AppendEvent(nil, "message", first.Bytes()))
		return
	}
	// The rest streams through a resumable replay: if the client loses this
	// response it resumes with Last-Event-ID and misses nothing, while the
	// call runs to its end (bounded by the call timeout).
	r := newReplay()
	r.append(first)
	s.replays.add(sess.ID, r)
	go func() {
		defer cancel()
		produce(r, st, func(m *mcp.Message) bool { return isAnswer(m, req) }, func(err error) *mcp.Message {
			return mcp.NewErrorResponse(req.ID, s.streamError(sess, req, err, timeout))
		}, timeout, nil)
	}()
	startSSE(ctx)
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) { r.serve(w, 0) })
}

// firstMessage starts an upstream exchange with call, in a context of
// base, and waits for its first message, both bounded by timeout: an upstream that never answers,
// not even with headers, ends in context.DeadlineExceeded. On success the
// returned cancel ends the exchange's context and must be called once the
// stream is done.
func firstMessage(base context.Context, timeout time.Duration, call func(context.Context) (upstream.Stream, error)) (upstream.Stream, *mcp.Message, context.CancelFunc, error) {
	// A deadline rather than a timer: transports that cannot watch a
	// context (the fasthttp call path) bound their wait by it instead.
	callCtx, cancel := context.WithTimeout(base, timeout)
	st, err := call(callCtx)
	if err != nil {
		timedOut := errors.Is(err, context.DeadlineExceeded) || errors.Is(callCtx.Err(), context.DeadlineExceeded)
		cancel()
		if timedOut {
			return nil, nil, nil, context.DeadlineExceeded
		}
		return nil, nil, nil, err
	}
	first, err := st.Next(callCtx)
	if err != nil {
		timedOut := errors.Is(err, context.DeadlineExceeded) || errors.Is(callCtx.Err(), context.DeadlineExceeded)
		st.Close()
		cancel()
		if timedOut {
			return nil, nil, nil, context.DeadlineExceeded
		}
		return nil, nil, nil, err
	}
	return st, first, cancel, nil
}

// handleGet opens the server-to-client stream.
func (s *Server) handleGet(ctx *fasthttp.RequestCtx, principal auth.Principal) {
	if !acceptsSSE(ctx) {
		writeRPCError(ctx, fasthttp.StatusNotAcceptable, nil, mcp.NewError(mcp.CodeInvalidRequest, "not acceptable: the GET stream needs Accept: text/event-stream"))
		return
	}
	sess, ok := s.session(ctx, principal, nil, nil)
	if !ok {
		return
	}
	if last := string(ctx.Request.Header.Peek(mcp.HeaderLastEventID)); last != "" {
		if id, seq, ok := parseEventID(last); ok {
			if r := s.replays.find(sess.ID, id); r != nil {
				startSSE(ctx)
				ctx.SetBodyStreamWriter(func(w *bufio.Writer) { r.serve(w, seq+1) })
				return
			}
		}
		// Not resumable (unknown or expired): open the GET stream afresh.
	}
	r := s.replays.listener(sess.ID)
	if r == nil {
		st, err := sess.Listen(s.base)
		if err != nil {
			writeRPCError(ctx, fasthttp.StatusBadGateway, nil, rpcerr.For(err))
			return
		}
		var created bool
		if r, created = s.replays.setListener(sess.ID, newReplay()); created {
			s.replays.add(sess.ID, r)
			go produce(r, st, func(*mcp.Message) bool { return false }, nil, 0, nil)
		} else {
			st.Close()
		}
	}
	startSSE(ctx)
	// A new GET takes over from any earlier one, from the first event
	// that no GET has delivered.
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) { r.serve(w, r.unsent()) })
}

func (s *Server) handleDelete(ctx *fasthttp.RequestCtx, principal auth.Principal) {
	sess, ok := s.session(ctx, principal, nil, nil)
	if !ok {
		return
	}
	s.proxy.CloseSession(sess.ID)
	s.replays.drop(sess.ID)
	ctx.SetStatusCode(fasthttp.StatusOK)
}

// pump streams st to w as a non-resumable SSE stream until last reports
// the final message, the stream ends, the client goes away (which stops
// reading st), or no message arrives for timeout (0: never). onErr turns
// a stream failure into a final message for the client (nil: none).
func (s *Server) pump(w *bufio.Writer, st upstream.Stream, last func(*mcp.Message) bool, onErr func(error) *mcp.Message, timeout time.Duration) {
	r := newReplay()
	stop := make(chan struct{})
	go produce(r, st, last, onErr, timeout, stop)
	r.serve(w, 0)
	close(stop)
}

// streamError explains a failed or timed-out call; on timeout it also
// cancels the request upstream.
func (s *Server) streamError(sess *proxy.Session, req *mcp.Message, err error, timeout time.Duration) *mcp.Error {
	if errors.Is(err, context.DeadlineExceeded) {
		sess.Cancel(req.ID, "gateway timeout")
	}
	return rpcerr.ForCall(sess.Slug, req.Method, err, timeout)
}

func isAnswer(m *mcp.Message, req *mcp.Message) bool {
	return m.Kind() == mcp.KindResponse && bytes.Equal(m.ID, req.ID)
}

func startSSE(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/event-stream")
	ctx.Response.Header.Set("Cache-Control", "no-cache, no-transform")
	ctx.Response.Header.Set("X-Accel-Buffering", "no")
	// Send the headers at once: clients wait for them to know a stream is
	// open, and an idle stream would otherwise hold them until its first event.
	ctx.Response.ImmediateHeaderFlush = true
}

func acceptsSSE(ctx *fasthttp.RequestCtx) bool {
	return bytes.Contains(ctx.Request.Header.Peek("Accept"), []byte("text/event-stream"))
}

func writeMessage(w *bufio.Writer, m *mcp.Message) error {
	if err := sse.WriteEvent(w, "", "message", m.Bytes()); err != nil {
		return err
	}
	return w.Flush()
}

func writeJSON(ctx *fasthttp.RequestCtx, body []byte) {
	ctx.SetContentType("application/json")
	ctx.SetBody(body)
}

// writeRPCError answers with a JSON-RPC error object and HTTP status.
func writeRPCError(ctx *fasthttp.RequestCtx, status int, id json.RawMessage, e *mcp.Error) {
	ctx.SetStatusCode(status)
	writeJSON(ctx, mcp.NewErrorResponse(id, e).Bytes())
}

func parseErrorFor(err error, limit int) *mcp.Error {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) {
		return mcp.Errorf(mcp.CodeInvalidRequest, "request body larger than the %d-byte limit", limit)
	}
	return mcp.Errorf(mcp.CodeInvalidRequest, "bad HTTP request: %v", err)
}
