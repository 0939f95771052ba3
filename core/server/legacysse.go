package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/proxy"
	"github.com/gatehouse-mcp/gatehouse/core/rpcerr"
	"github.com/gatehouse-mcp/gatehouse/core/sse"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// sseOutbox bounds the messages waiting for a slow legacy-SSE client; a
// client that falls this far behind is disconnected rather than allowed to
// hold upstream readers.
const sseOutbox = 1024

// Backoff between reopenings of a session's unsolicited-message stream
// when the upstream ends it (a server may close its GET stream at will).
const (
	minRelisten = time.Second
	maxRelisten = 30 * time.Second
)

// sseClient is one legacy HTTP+SSE (2024-11-05) client: a GET stream that
// carries every server message, fed by POSTs to its endpoint URL. The
// stream is the client's connection: its gateway session ends with it.
type sseClient struct {
	id        string
	slug      string
	principal auth.Principal
	log       zerolog.Logger
	out       chan *mcp.Message // to the stream's one writer
	inbox     chan *mcp.Message // client messages, handled in order
	ctx       context.Context   // done once the stream ends
	cancel    context.CancelFunc

	mu    sync.Mutex
	sess  *proxy.Session
	ended bool
}

// end stops the stream; the reason that ends it first is logged ("":
// nothing to log, the client left).
func (c *sseClient) end(level zerolog.Level, reason string) {
	c.mu.Lock()
	first := !c.ended
	c.ended = true
	c.mu.Unlock()
	if first && reason != "" {
		c.log.WithLevel(level).Str("sse_session", c.id[:8]).Str("connector", c.slug).Msg(reason)
	}
	c.cancel()
}

// send queues m for the stream; it reports false once the client is gone
// or hopelessly behind (then the stream is dropped).
func (c *sseClient) send(m *mcp.Message) bool {
	if c.ctx.Err() != nil {
		return false
	}
	select {
	case c.out <- m:
		return true
	default:
		c.end(zerolog.WarnLevel, "legacy SSE client too slow: its stream is dropped")
		return false
	}
}

func (c *sseClient) session() *proxy.Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

// attach binds the gateway session initialize opened; it refuses once the
// stream has ended, and the caller then closes the session.
func (c *sseClient) attach(sess *proxy.Session) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return false
	}
	c.sess = sess
	return true
}

// detach marks the stream ended and returns its session, if any.
func (c *sseClient) detach() *proxy.Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended = true
	sess := c.sess
	c.sess = nil
	return sess
}

// sseClients indexes the open legacy-SSE streams.
type sseClients struct {
	mu sync.Mutex
	m  map[string]*sseClient
}

func (t *sseClients) add(c *sseClient) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]*sseClient{}
	}
	t.m[c.id] = c
}

func (t *sseClients) get(id string) *sseClient {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[id]
}

func (t *sseClients) remove(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, id)
}

// serveLegacySSE is the HTTP+SSE transport: GET /sse[/{slug}] opens the
// stream, POST /sse[/{slug}]/messages?session_id=ID sends a message. The
// method tells the two apart, so a connector may be called "messages".
// Without a slug it is the aggregate of every connector, like /mcp.
func (s *Server) serveLegacySSE(ctx *fasthttp.RequestCtx, rest string) {
	principal, ok := s.admitMCP(ctx)
	if !ok {
		return
	}
	switch {
	case ctx.IsGet():
		s.openSSEStream(ctx, principal, rest)
	case ctx.IsPost():
		slug, ok := strings.CutSuffix(rest, "/messages")
		if rest == "messages" {
			slug, ok = "", true
		}
		if !ok {
			writeRPCError(ctx, fasthttp.StatusNotFound, nil, mcp.NewError(mcp.CodeInvalidRequest, "not found: GET /sse/{connector} opens the stream; POST messages to the endpoint it announces"))
			return
		}
		s.handleSSEMessage(ctx, principal, slug)
	default:
		ctx.Response.Header.Set("Allow", "GET, POST")
		writeRPCError(ctx, fasthttp.StatusMethodNotAllowed, nil, mcp.NewError(mcp.CodeInvalidRequest, "method not allowed: GET opens the stream; POST to the endpoint it announces"))
	}
}

// openSSEStream answers GET: it announces the endpoint, then relays every
// message for the client until it goes away. The gateway session is
// opened later, by the client's initialize.
func (s *Server) openSSEStream(ctx *fasthttp.RequestCtx, principal auth.Principal, slug string) {
	if slug != "" {
		if _, rpcErr := s.proxy.Resolve(principal, slug); rpcErr != nil {
			status := fasthttp.StatusNotFound
			if rpcErr.Code == mcp.CodeConnectorDisabled {
				status = fasthttp.StatusForbidden
			}
			writeRPCError(ctx, status, nil, rpcErr)
			return
		}
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	streamCtx, cancel := context.WithCancel(s.base)
	c := &sseClient{id: hex.EncodeToString(b[:]), slug: slug, principal: principal, log: s.log,
		out: make(chan *mcp.Message, sseOutbox), inbox: make(chan *mcp.Message, sseOutbox),
		ctx: streamCtx, cancel: cancel}
	s.sseClients.add(c)
	go func() {
		for {
			select {
			case m := <-c.inbox:
				s.dispatchSSE(c, m)
			case <-c.ctx.Done():
				return
			}
		}
	}()
	endpoint := "/sse/messages?session_id=" + c.id
	if slug != "" {
		endpoint = "/sse/" + slug + "/messages?session_id=" + c.id
	}
	startSSE(ctx)
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer func() {
			c.end(zerolog.NoLevel, "")
			s.sseClients.remove(c.id)
			if sess := c.detach(); sess != nil {
				s.proxy.CloseSession(sess.ID)
			}
		}()
		if sse.WriteEvent(w, "", "endpoint", []byte(endpoint)) != nil || w.Flush() != nil {
			return
		}
		tick := time.NewTicker(keepAlive)
		defer tick.Stop()
		for {
			select {
			case m := <-c.out:
				if writeMessage(w, m) != nil {
					return
				}
			case <-tick.C:
				// A failed write is how a vanished client shows itself.
				_, _ = w.WriteString(": keep-alive\n\n")
				if w.Flush() != nil {
					return
				}
			case <-c.ctx.Done():
				return
			}
		}
	})
}

// handleSSEMessage accepts one client message for a legacy-SSE stream and
// answers 202 at once; what the upstream sends goes on the stream.
func (s *Server) handleSSEMessage(ctx *fasthttp.RequestCtx, principal auth.Principal, slug string) {
	c := s.sseClients.get(string(ctx.QueryArgs().Peek("session_id")))
	if c == nil || c.slug != slug || c.principal.User != principal.User || c.ctx.Err() != nil {
		writeRPCError(ctx, fasthttp.StatusNotFound, nil, mcp.NewError(mcp.CodeInvalidRequest, "session not found: open the stream with GET first and POST to the endpoint it announced"))
		return
	}
	// The message outlives this request, whose buffers fasthttp reuses:
	// it gets its own copy.
	msg, rpcErr := mcp.Parse(bytes.Clone(ctx.Request.Body()))
	if rpcErr != nil {
		var id []byte
		if msg != nil {
			id = msg.ID
		}
		writeRPCError(ctx, fasthttp.StatusBadRequest, id, rpcErr)
		return
	}
	// Using the session keeps it from being closed as idle; a session that
	// was closed anyway (idle, or its connector changed) ends the stream,
	// so that the client reconnects.
	if sess := c.session(); sess != nil {
		if _, err := s.proxy.Session(sess.ID, principal); err != nil {
			c.end(zerolog.InfoLevel, "legacy SSE stream ended: its gateway session was closed")
			writeRPCError(ctx, fasthttp.StatusNotFound, msg.ID, mcp.NewError(mcp.CodeInvalidRequest, "session not found: it expired or was closed; open a new stream"))
			return
		}
	}
	select {
	case c.inbox <- msg:
		ctx.SetStatusCode(fasthttp.StatusAccepted)
		ctx.SetBodyString("Accepted")
	default:
		writeRPCError(ctx, fasthttp.StatusServiceUnavailable, msg.ID, mcp.NewError(mcp.CodeInvalidRequest, "too many messages in flight on this stream; retry"))
	}
}

// dispatchSSE handles one message of a legacy-SSE client, in arrival order:
// initialize and notifications complete before the next message; calls
// run concurrently.
func (s *Server) dispatchSSE(c *sseClient, msg *mcp.Message) {
	ctx := c.ctx
	if msg.Kind() == mcp.KindRequest && msg.Method == mcp.MethodInitialize {
		s.initializeSSE(c, msg)
		return
	}
	sess := c.session()
	if sess == nil {
		if msg.Kind() == mcp.KindRequest {
			c.send(mcp.NewErrorResponse(msg.ID, mcp.NewError(mcp.CodeInvalidRequest, "bad request: send initialize first")))
		}
		return
	}
	if msg.Kind() != mcp.KindRequest {
		if err := sess.Send(ctx, msg); err != nil {
			s.log.Warn().Err(err).Str("connector", c.slug).Str("method", msg.Method).Msg("forwarding a client message failed")
		}
		return
	}
	go s.callSSE(c, sess, msg)
}

// initializeSSE opens the gateway session of a legacy-SSE client.
func (s *Server) initializeSSE(c *sseClient, msg *mcp.Message) {
	if c.session() != nil {
		c.send(mcp.NewErrorResponse(msg.ID, mcp.NewError(mcp.CodeInvalidRequest, "bad request: this stream is already initialized; open a new stream for a new session")))
		return
	}
	var (
		sess *proxy.Session
		resp *mcp.Message
		err  error
	)
	if c.slug == "" {
		sess, resp, err = s.proxy.InitializeAggregate(c.ctx, c.principal, msg)
	} else {
		sess, resp, err = s.proxy.Initialize(c.ctx, c.principal, c.slug, msg)
	}
	if err != nil {
		c.send(mcp.NewErrorResponse(msg.ID, rpcerr.For(err)))
		return
	}
	if sess != nil {
		if !c.attach(sess) {
			// The client left while its session was being opened.
			s.proxy.CloseSession(sess.ID)
			return
		}
		go s.listenSSE(c, sess)
	}
	c.send(resp)
}

// callSSE relays one call of a legacy-SSE client onto its stream, with
// relayCall's timeout: the call fails (and is cancelled upstream) when
// no message comes for the call timeout.
func (s *Server) callSSE(c *sseClient, sess *proxy.Session, msg *mcp.Message) {
	timeout := s.proxy.CallTimeout()
	st, first, cancel, err := firstMessage(s.base, timeout, func(ctx context.Context) (upstream.Stream, error) { return sess.Call(ctx, msg) })
	if err != nil {
		c.send(mcp.NewErrorResponse(msg.ID, s.streamError(sess, msg, err, timeout)))
		return
	}
	defer cancel()
	defer st.Close()
	// The call ends with the stream: nobody is left to read its answer.
	defer context.AfterFunc(c.ctx, cancel)()
	if !c.send(first) || isAnswer(first, msg) {
		return
	}
	for {
		// A per-message bound: progress and other messages restart it.
		nctx, ncancel := context.WithTimeout(c.ctx, timeout)
		m, err := st.Next(nctx)
		ncancel()
		if err != nil {
			if c.ctx.Err() == nil {
				// Unlike a Streamable HTTP response, this stream does not end
				// with the call, so even a clean end (io.EOF) without an
				// answer must be reported, or the client waits forever.
				c.send(mcp.NewErrorResponse(msg.ID, s.streamError(sess, msg, err, timeout)))
			}
			return
		}
		if !c.send(m) || isAnswer(m, msg) {
			return
		}
	}
}

// listenSSE copies a session's unsolicited messages onto the stream for
// as long as both live, reopening the upstream stream when it ends.
func (s *Server) listenSSE(c *sseClient, sess *proxy.Session) {
	wait := minRelisten
	for {
		st, err := sess.Listen(c.ctx)
		if err == nil {
			var relayed bool
			for {
				var m *mcp.Message
				if m, err = st.Next(c.ctx); err != nil || !c.send(m) {
					break
				}
				relayed = true
			}
			st.Close()
			if relayed {
				wait = minRelisten
			}
		}
		if c.ctx.Err() != nil {
			return
		}
		if errors.Is(err, proxy.ErrSessionNotFound) {
			c.end(zerolog.InfoLevel, "legacy SSE stream ended: its gateway session was closed")
			return
		}
		if err != nil {
			s.log.Debug().Err(err).Str("connector", c.slug).Dur("retry_in", wait).Msg("legacy SSE: the upstream's unsolicited stream ended")
		}
		select {
		case <-time.After(wait):
		case <-c.ctx.Done():
			return
		}
		wait = min(2*wait, maxRelisten)
	}
}
