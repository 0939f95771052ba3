package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/proxy"
	"github.com/gatehouse-mcp/gatehouse/core/sse"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// sseOutbox bounds the messages waiting for a slow legacy-SSE client; a
// client that falls this far behind is disconnected rather than allowed to
// hold upstream readers.
const sseOutbox = 1024

// sseClient is one legacy HTTP+SSE (2024-11-05) client: a GET stream that
// carries every server message, fed by POSTs to its endpoint URL.
type sseClient struct {
	id        string
	slug      string
	principal auth.Principal
	out       chan *mcp.Message
	inbox     chan *mcp.Message // client messages, handled in order
	done      chan struct{}
	closeOnce sync.Once

	mu   sync.Mutex
	sess *proxy.Session
}

func (c *sseClient) close() { c.closeOnce.Do(func() { close(c.done) }) }

// send queues m for the stream; it reports false once the client is gone
// or hopelessly behind.
func (c *sseClient) send(m *mcp.Message) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.out <- m:
		return true
	default:
		c.close()
		return false
	}
}

func (c *sseClient) session() *proxy.Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
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
// stream, POST /sse[/{slug}]/messages?session_id=ID sends a message.
func (s *Server) serveLegacySSE(ctx *fasthttp.RequestCtx, rest string) {
	if !s.origin.check(string(ctx.Request.Header.Peek("Origin"))) {
		writeRPCError(ctx, fasthttp.StatusForbidden, nil, mcp.NewError(mcp.CodeInvalidRequest, "forbidden: the Origin header is not allowed (DNS-rebinding protection)"))
		return
	}
	principal, ok := s.authenticate(ctx, true)
	if !ok {
		return
	}
	slug, messages := strings.CutSuffix(rest, "/messages")
	if messages || rest == "messages" {
		if rest == "messages" {
			slug = ""
		}
		if !ctx.IsPost() {
			ctx.Response.Header.Set("Allow", "POST")
			writeRPCError(ctx, fasthttp.StatusMethodNotAllowed, nil, mcp.NewError(mcp.CodeInvalidRequest, "method not allowed: POST messages here"))
			return
		}
		s.handleSSEMessage(ctx, principal, slug)
		return
	}
	if !ctx.IsGet() {
		ctx.Response.Header.Set("Allow", "GET")
		writeRPCError(ctx, fasthttp.StatusMethodNotAllowed, nil, mcp.NewError(mcp.CodeInvalidRequest, "method not allowed: GET opens the stream; POST to the endpoint it announces"))
		return
	}
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
	c := &sseClient{id: hex.EncodeToString(b[:]), slug: slug, principal: principal,
		out: make(chan *mcp.Message, sseOutbox), inbox: make(chan *mcp.Message, sseOutbox), done: make(chan struct{})}
	s.sseClients.add(c)
	go func() {
		for {
			select {
			case m := <-c.inbox:
				s.dispatchSSE(c, m)
			case <-c.done:
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
			c.close()
			s.sseClients.remove(c.id)
			if sess := c.session(); sess != nil {
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
				w.WriteString(": keep-alive\n\n")
				if w.Flush() != nil {
					return
				}
			case <-c.done:
				return
			}
		}
	})
}

// handleSSEMessage accepts one client message for a legacy-SSE stream and
// answers 202 at once; what the upstream sends goes on the stream.
func (s *Server) handleSSEMessage(ctx *fasthttp.RequestCtx, principal auth.Principal, slug string) {
	c := s.sseClients.get(string(ctx.QueryArgs().Peek("session_id")))
	if c == nil || c.slug != slug || c.principal.User != principal.User {
		writeRPCError(ctx, fasthttp.StatusNotFound, nil, mcp.NewError(mcp.CodeInvalidRequest, "session not found: open the stream with GET first and POST to the endpoint it announced"))
		return
	}
	msg, rpcErr := mcp.Parse(ctx.Request.Body())
	if rpcErr != nil {
		var id []byte
		if msg != nil {
			id = msg.ID
		}
		writeRPCError(ctx, fasthttp.StatusBadRequest, id, rpcErr)
		return
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
	ctx := context.Background()
	if msg.Kind() == mcp.KindRequest && msg.Method == mcp.MethodInitialize {
		var (
			sess *proxy.Session
			resp *mcp.Message
			err  error
		)
		if c.slug == "" {
			sess, resp, err = s.proxy.InitializeAggregate(ctx, c.principal, msg)
		} else {
			sess, resp, err = s.proxy.Initialize(ctx, c.principal, c.slug, msg)
		}
		if err != nil {
			c.send(mcp.NewErrorResponse(msg.ID, toRPCError(err)))
			return
		}
		if sess != nil {
			c.mu.Lock()
			c.sess = sess
			c.mu.Unlock()
			go s.drainSSE(c, sess)
		}
		c.send(resp)
		return
	}
	sess := c.session()
	if sess == nil {
		if msg.Kind() == mcp.KindRequest {
			c.send(mcp.NewErrorResponse(msg.ID, mcp.NewError(mcp.CodeInvalidRequest, "send initialize first")))
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

// callSSE relays one call of a legacy-SSE client onto its stream.
func (s *Server) callSSE(c *sseClient, sess *proxy.Session, msg *mcp.Message) {
	timeout := s.proxy.CallTimeout()
	st, first, cancel, err := firstMessage(timeout, func(ctx context.Context) (upstream.Stream, error) { return sess.Call(ctx, msg) })
	if err != nil {
		c.send(mcp.NewErrorResponse(msg.ID, s.streamError(sess, msg, err, timeout)))
		return
	}
	defer cancel()
	defer st.Close()
	if !c.send(first) || isAnswer(first, msg) {
		return
	}
	for {
		// A per-message bound: progress and other messages restart it.
		nctx, ncancel := context.WithTimeout(context.Background(), timeout)
		m, err := st.Next(nctx)
		ncancel()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				c.send(mcp.NewErrorResponse(msg.ID, s.streamError(sess, msg, err, timeout)))
			}
			return
		}
		if !c.send(m) || isAnswer(m, msg) {
			return
		}
	}
}

// drainSSE copies a session's unsolicited messages onto the stream.
func (s *Server) drainSSE(c *sseClient, sess *proxy.Session) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-c.done
		cancel()
	}()
	st, err := sess.Listen(ctx)
	if err != nil {
		return
	}
	defer st.Close()
	for {
		m, err := st.Next(ctx)
		if err != nil || !c.send(m) {
			return
		}
	}
}
