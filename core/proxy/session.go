package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/pipeline"
	"github.com/gatehouse-mcp/gatehouse/core/rpcerr"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// Restart backoff for an upstream that keeps failing.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 30 * time.Second
)

// backend serves a session that is not a plain passthrough.
type backend interface {
	Call(ctx context.Context, req *mcp.Message) (upstream.Stream, error)
	Send(ctx context.Context, msg *mcp.Message) error
	Listen(ctx context.Context) (upstream.Stream, error)
	Cancel(id json.RawMessage)
	Close()
}

// Session is one client session: bound to one connector, or (Slug "") the
// aggregate of every connector its user may see.
type Session struct {
	ID   string
	User string
	Slug string

	proxy     *Proxy
	principal auth.Principal // as authenticated at initialize
	// elicit: the client declared elicitation, so approvals are offered
	// to it as elicitation requests.
	elicit    bool
	initParam json.RawMessage

	// aggregated: the session is a child of an aggregate session, which
	// offers tool search itself; its own listings stay real.
	aggregated bool

	// backend, when set, serves the session instead of a passthrough
	// upstream session (conn is then unused): a translation to a
	// sessionless 2026-07-28 upstream, or the aggregate of all connectors.
	backend backend

	mu          sync.Mutex
	conn        upstream.Conn
	initialized bool // the client sent notifications/initialized
	failures    int
	nextDial    time.Time
	lastUsed    time.Time
	closed      bool
	held        map[string]*heldCall // calls waiting for an approval, by request id
	busy        int                  // requests in flight
	leases      []func()             // places under the limits, given back at close
}

// who is the session's principal with its roles as they are now.
func (s *Session) who() auth.Principal { return s.proxy.refresh(s.principal) }

func (s *Session) touch() {
	s.mu.Lock()
	s.lastUsed = time.Now()
	s.mu.Unlock()
}

func (s *Session) idleSince(now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return now.Sub(s.lastUsed)
}

// connect dials the upstream and performs initialize with the client's
// parameters; id is the id the answer must carry.
func (s *Session) connect(ctx context.Context, c *connector.Connector, id json.RawMessage) (*mcp.Message, error) {
	release := func() {}
	if c.Transport == connector.TransportSTDIO {
		var err error
		if release, err = s.proxy.take(processes, s.principal, true, c, s); err != nil {
			return nil, err
		}
	}
	conn, err := s.proxy.dial(ctx, c, s.User)
	if err != nil {
		release()
		return nil, rpcerr.Unavailable(c.Slug, err)
	}
	if c.Transport == connector.TransportSTDIO {
		conn = &process{Conn: conn, release: release}
	}
	req := &mcp.Message{JSONRPC: "2.0", ID: id, Method: mcp.MethodInitialize, Params: s.initParam}
	resp, err := first(ctx, conn, req, s.proxy.opts.CallTimeout)
	if err != nil {
		_ = conn.Close()
		return nil, rpcerr.Unavailable(c.Slug, err)
	}
	s.mu.Lock()
	s.conn = conn
	s.mu.Unlock()
	return resp, nil
}

// first sends req and waits for its response, ignoring anything else the
// server sends before it (initialize allows only pings and logs).
func first(ctx context.Context, conn upstream.Conn, req *mcp.Message, timeout time.Duration) (*mcp.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	st, err := conn.Call(ctx, req)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	for {
		m, err := st.Next(ctx)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%w: no answer to %s", upstream.ErrUnavailable, req.Method)
			}
			return nil, err
		}
		if m.Kind() == mcp.KindResponse {
			return m, nil
		}
	}
}

// current returns a live upstream session, re-dialling (and replaying
// initialize) after a crash or an expired session, with backoff.
func (s *Session) current(ctx context.Context) (upstream.Conn, error) {
	c, rpcErr := s.proxy.Resolve(s.who(), s.Slug)
	if rpcErr != nil {
		return nil, rpcErr
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrSessionNotFound
	}
	if s.conn != nil {
		conn := s.conn
		s.mu.Unlock()
		return conn, nil
	}
	wait := time.Until(s.nextDial)
	s.mu.Unlock()
	if wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	resp, err := s.connect(ctx, c, json.RawMessage(`"gatehouse-reinit"`))
	if err == nil && resp.Error != nil {
		err = rpcerr.Unavailable(s.Slug, fmt.Errorf("re-initialize refused: %s", resp.Error.Message))
		s.closeUpstream()
	}
	s.mu.Lock()
	if err != nil {
		s.failures++
		s.nextDial = time.Now().Add(backoff(s.failures))
		s.mu.Unlock()
		return nil, err
	}
	conn := s.conn
	notify := s.initialized
	s.mu.Unlock()
	if notify {
		n := &mcp.Message{JSONRPC: "2.0", Method: mcp.MethodInitialized}
		if err := conn.Send(ctx, n); err != nil {
			return nil, rpcerr.Unavailable(s.Slug, err)
		}
	}
	s.proxy.log.Info().Str("session", s.ID[:8]).Str("connector", s.Slug).Msg("upstream session re-established")
	return conn, nil
}

func backoff(failures int) time.Duration {
	d := minBackoff << min(failures-1, 20)
	return min(d, maxBackoff)
}

// dropped marks conn dead so the next use re-dials.
func (s *Session) dropped(conn upstream.Conn) {
	s.mu.Lock()
	if s.conn != conn {
		s.mu.Unlock()
		return
	}
	s.conn = nil
	s.failures++
	s.nextDial = time.Now().Add(backoff(s.failures))
	s.mu.Unlock()
	_ = conn.Close()
}

func retryable(err error) bool {
	return errors.Is(err, upstream.ErrSessionExpired) || errors.Is(err, upstream.ErrClosed)
}

// Call forwards a client request. Requests to a connector pass the
// gateway's checks first (held tools, tool policies, argument validation;
// a call needing an approval waits for it inside the returned stream). A
// request the upstream never received (its process had died, or its
// session expired) is retried once on a fresh upstream session. tools/call
// requests are reported to the proxy's call observer (the audit log) once
// they end. Each request counts against the limits on requests in flight
// until its stream is closed.
func (s *Session) Call(ctx context.Context, req *mcp.Message) (upstream.Stream, error) {
	return s.Relay(ctx, req, nil)
}

// Relay is Call for a client's own request, whose answer the caller
// writes: f learns how the upstream framed the answer (plain JSON or a
// stream), for the caller to mirror.
func (s *Session) Relay(ctx context.Context, req *mcp.Message, f *upstream.Framing) (upstream.Stream, error) {
	if rpcErr := s.proxy.opts.Limits.nameError(req, s.Slug == ""); rpcErr != nil {
		return nil, rpcErr
	}
	end, err := s.begin()
	if err != nil {
		return nil, err
	}
	st, err := s.serve(ctx, req, f)
	if err != nil {
		end()
		return nil, err
	}
	return &counted{Stream: st, end: end}, nil
}

// serve is Call once the request is counted: the request runs through
// the chain, with the session's upstream as its last step.
func (s *Session) serve(ctx context.Context, req *mcp.Message, f *upstream.Framing) (upstream.Stream, error) {
	if s.Slug == "" {
		// The aggregate: its connectors' sessions run the chain.
		if a, ok := s.backend.(*aggregate); ok {
			return a.relay(ctx, req, f)
		}
		return s.call(ctx, req, nil)
	}
	if !s.aggregated && !s.principal.System && s.proxy.searchesOn(s.Slug) {
		if st, handled, err := s.proxy.searchAnswer(ctx, req, s.searchEndpoint()); handled {
			return st, err
		}
	}
	c, _ := s.proxy.connectors.Lookup(s.Slug)
	x := &pipeline.Exchange{Principal: s.who(), Slug: s.Slug, Connector: c, Request: req, Start: time.Now(), Asker: s, Framing: f}
	return s.proxy.chain.Run(ctx, x, s.toUpstream)
}

// toUpstream is the chain's last step on a session.
func (s *Session) toUpstream(ctx context.Context, x *pipeline.Exchange) (upstream.Stream, error) {
	return s.call(ctx, x.Request, x.Framing)
}

// call sends req to the session's upstream; f learns whether the
// transport answered with plain JSON (read off the transport's own
// stream, before any wrapper).
func (s *Session) call(ctx context.Context, req *mcp.Message, f *upstream.Framing) (upstream.Stream, error) {
	if s.backend != nil {
		if s.Slug != "" {
			if _, rpcErr := s.proxy.Resolve(s.who(), s.Slug); rpcErr != nil {
				return nil, rpcErr
			}
		}
		return s.backend.Call(ctx, req)
	}
	for attempt := 0; ; attempt++ {
		conn, err := s.current(ctx)
		if err != nil {
			return nil, err
		}
		st, err := conn.Call(ctx, req)
		if err == nil {
			f.SetJSON(upstream.PlainJSON(st))
			s.mu.Lock()
			s.failures = 0
			s.mu.Unlock()
			return &watched{Stream: st, s: s, conn: conn}, nil
		}
		if retryable(err) {
			s.dropped(conn)
			if attempt == 0 {
				continue
			}
		}
		return nil, rpcerr.Unavailable(s.Slug, err)
	}
}

// Send forwards a client notification or response.
func (s *Session) Send(ctx context.Context, msg *mcp.Message) error {
	if s.answerApproval(msg) || s.cancelHeld(msg) {
		return nil
	}
	if s.backend != nil {
		return s.backend.Send(ctx, msg)
	}
	if msg.Method == mcp.MethodInitialized {
		s.mu.Lock()
		s.initialized = true
		s.mu.Unlock()
	}
	conn, err := s.current(ctx)
	if err != nil {
		return err
	}
	if err := conn.Send(ctx, msg); err != nil {
		if retryable(err) {
			s.dropped(conn)
		}
		return rpcerr.Unavailable(s.Slug, err)
	}
	return nil
}

// Listen opens the upstream's unsolicited-message stream.
func (s *Session) Listen(ctx context.Context) (upstream.Stream, error) {
	if s.backend != nil {
		st, err := s.backend.Listen(ctx)
		if err != nil {
			return nil, rpcerr.Unavailable(s.Slug, err)
		}
		return st, nil
	}
	conn, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	st, err := conn.Listen(ctx)
	if err != nil {
		if retryable(err) {
			s.dropped(conn)
		}
		return nil, rpcerr.Unavailable(s.Slug, err)
	}
	return st, nil
}

// Cancel tells the upstream the client no longer waits for request id.
func (s *Session) Cancel(id json.RawMessage, reason string) {
	if s.backend != nil {
		s.backend.Cancel(id)
		return
	}
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	if conn == nil {
		return
	}
	n, err := mcp.NewNotification(mcp.MethodCancelled, map[string]any{"requestId": id, "reason": reason})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = conn.Send(ctx, n)
}

func (s *Session) closeUpstream() {
	if s.backend != nil {
		s.backend.Close()
	}
	s.mu.Lock()
	conn := s.conn
	s.conn = nil
	s.closed = true
	held := s.held
	s.held = nil
	leases := s.leases
	s.leases = nil
	s.mu.Unlock()
	for _, h := range held {
		h.cancel() // abandons its approval
	}
	if conn != nil {
		_ = conn.Close()
	}
	for _, release := range leases {
		release()
	}
}

// watched marks the session's upstream dead when a stream breaks because
// the upstream went away, so the next call re-dials.
type watched struct {
	upstream.Stream
	s    *Session
	conn upstream.Conn
}

func (w *watched) Next(ctx context.Context) (*mcp.Message, error) {
	m, err := w.Stream.Next(ctx)
	if err != nil && retryable(err) {
		w.s.dropped(w.conn)
		return nil, rpcerr.Unavailable(w.s.Slug, err)
	}
	return m, err
}
