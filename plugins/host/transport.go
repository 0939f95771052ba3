package host

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/proxy"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
	transportv1 "github.com/gatehouse-mcp/gatehouse/plugins/proto/transport/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// transportDialer opens upstream sessions through a transport plugin; it
// is registered in the proxy's dialer registry under the plugin's
// transport name.
type transportDialer struct {
	p        *Plugin
	decorate func(ctx context.Context, connector, user string, headers map[string]string) (map[string]string, error)
}

// Dial implements proxy.Dialer: one Session stream per upstream session.
func (d transportDialer) Dial(ctx context.Context, req proxy.DialRequest) (upstream.Conn, error) {
	raw, err := d.p.dispensed()
	if err != nil {
		return nil, err
	}
	client, ok := raw.(transportv1.TransportClient)
	if !ok {
		return nil, &Error{Plugin: d.p.Name(), Err: ErrNotRunning, Msg: "is not a transport plugin"}
	}
	headers := map[string]string{}
	if req.Headers != nil {
		if headers, err = req.Headers(ctx); err != nil {
			return nil, err
		}
	}
	if d.decorate != nil {
		if headers, err = d.decorate(ctx, req.Connector.Slug, req.User, headers); err != nil {
			return nil, err
		}
	}
	// The session outlives the dial's context: it ends with Close.
	sctx, cancel := context.WithCancel(context.Background())
	stream, err := client.Session(sctx)
	if err != nil {
		cancel()
		return nil, d.p.callError("open session", err)
	}
	open := &transportv1.GatewayFrame{Frame: &transportv1.GatewayFrame_Open{Open: &transportv1.Open{
		Connector: req.Connector.Slug, User: req.User, Url: req.Connector.URL, Headers: headers,
		MaxMessageBytes: int64(req.MaxMessageBytes)}}}
	if err := stream.Send(open); err != nil {
		cancel()
		return nil, d.p.callError("open session", err)
	}
	first, err := recvWithin(ctx, stream, d.p.sup.CallTimeout, cancel)
	if err != nil {
		cancel()
		if st, ok := status.FromError(err); ok && st.Code() == codes.FailedPrecondition {
			// The plugin is fine; the upstream it dials is not: the
			// connector is unavailable (−31050), as for a built-in
			// transport, and the session re-dials with backoff.
			return nil, &UpstreamError{Plugin: d.p.Name(), Msg: st.Message()}
		}
		return nil, d.p.callError("open session", err)
	}
	if first.GetOpened() == nil {
		cancel()
		return nil, &Error{Plugin: d.p.Name(), Err: ErrGarbage,
			Msg: "open session: the plugin's first frame is not Opened (a transport.v1 plugin must confirm the session first)"}
	}
	c := &Conn{p: d.p, stream: stream, cancel: cancel, router: upstream.NewRouter(),
		maxBytes: req.MaxMessageBytes, done: make(chan struct{})}
	go c.readLoop()
	return c, nil
}

// recvWithin receives one frame, giving up after timeout (or when ctx
// ends) by cancelling the stream.
func recvWithin(ctx context.Context, s transportv1.Transport_SessionClient, timeout time.Duration, cancel func()) (*transportv1.PluginFrame, error) {
	type result struct {
		f   *transportv1.PluginFrame
		err error
	}
	ch := make(chan result, 1)
	go func() {
		f, err := s.Recv()
		ch <- result{f, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.f, r.err
	case <-t.C:
		cancel()
		return nil, context.DeadlineExceeded
	case <-ctx.Done():
		cancel()
		return nil, ctx.Err()
	}
}

// Conn is one upstream session through a transport plugin. Messages of
// one bidirectional stream are matched to calls by upstream.Router, as
// for a stdio pipe.
type Conn struct {
	p        *Plugin
	stream   transportv1.Transport_SessionClient
	cancel   context.CancelFunc
	router   *upstream.Router
	maxBytes int

	sendMu sync.Mutex
	once   sync.Once
	done   chan struct{}
	err    error
}

func (c *Conn) readLoop() {
	for {
		f, err := c.stream.Recv()
		if err != nil {
			c.fail(c.ended(err))
			return
		}
		b := f.GetMessage()
		if b == nil {
			c.fail(&Error{Plugin: c.p.Name(), Err: fmt.Errorf("%w: %w", ErrGarbage, upstream.ErrClosed),
				Msg: "sent a frame that is not a message after the session opened; session closed"})
			return
		}
		if c.maxBytes > 0 && len(b) > c.maxBytes {
			c.fail(&Error{Plugin: c.p.Name(), Err: fmt.Errorf("%w: %w", ErrGarbage, upstream.ErrClosed),
				Msg: fmt.Sprintf("sent a message of %d bytes, above upstream.max_message_bytes (%d); session closed", len(b), c.maxBytes)})
			return
		}
		m, perr := mcp.Parse(b)
		if perr != nil {
			c.fail(&Error{Plugin: c.p.Name(), Err: fmt.Errorf("%w: %w", ErrGarbage, upstream.ErrClosed),
				Msg: "sent a message that is not JSON-RPC (" + perr.Message + "); session closed"})
			return
		}
		c.router.Dispatch(m)
	}
}

// ended explains why the stream ended.
func (c *Conn) ended(err error) error {
	select {
	case <-c.done:
		return upstream.ErrClosed
	default:
	}
	pe := c.p.callError("session", err)
	if errors.Is(pe, ErrNotRunning) {
		pe.Err = fmt.Errorf("%w: %w", upstream.ErrClosed, pe.Err)
		return pe
	}
	// The plugin ended the session (its upstream went away, or it gave
	// up with an error): the session is over.
	return &Error{Plugin: c.p.Name(), Err: fmt.Errorf("%w: %w", upstream.ErrClosed, err), Msg: "ended the session: " + pe.Msg}
}

func (c *Conn) fail(err error) {
	c.router.Fail(err)
	c.once.Do(func() {
		c.err = err
		close(c.done)
	})
	c.cancel()
}

// Call implements upstream.Conn.
func (c *Conn) Call(ctx context.Context, req *mcp.Message) (upstream.Stream, error) {
	s, err := c.router.Register(req)
	if err != nil {
		return nil, err
	}
	if err := c.write(req); err != nil {
		c.router.Forget(req)
		return nil, err
	}
	return &deadlineStream{Stream: s, p: c.p}, nil
}

// Send implements upstream.Conn.
func (c *Conn) Send(ctx context.Context, msg *mcp.Message) error { return c.write(msg) }

// Listen implements upstream.Conn: the session's messages tied to no call.
func (c *Conn) Listen(ctx context.Context) (upstream.Stream, error) {
	return upstream.SharedStream(c.router.Events()), nil
}

func (c *Conn) write(msg *mcp.Message) error {
	select {
	case <-c.done:
		if c.err != nil {
			return c.err
		}
		return upstream.ErrClosed
	default:
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if err := c.stream.Send(&transportv1.GatewayFrame{Frame: &transportv1.GatewayFrame_Message{Message: msg.Bytes()}}); err != nil {
		pe := c.p.callError("send", err)
		pe.Err = fmt.Errorf("%w: %w", upstream.ErrClosed, pe.Err)
		return pe
	}
	return nil
}

// Close implements upstream.Conn.
func (c *Conn) Close() error {
	c.once.Do(func() { close(c.done) })
	c.sendMu.Lock()
	_ = c.stream.CloseSend()
	c.sendMu.Unlock()
	c.cancel()
	c.router.Fail(upstream.ErrClosed)
	return nil
}

// deadlineStream bounds the wait for each message of a call by the
// plugin's call timeout, so that a hung plugin fails the call naming it.
type deadlineStream struct {
	upstream.Stream
	p *Plugin
}

// Unwrap exposes the wrapped stream.
func (s *deadlineStream) Unwrap() upstream.Stream { return s.Stream }

func (s *deadlineStream) Next(ctx context.Context) (*mcp.Message, error) {
	dctx, cancel := context.WithTimeout(ctx, s.p.sup.CallTimeout)
	defer cancel()
	m, err := s.Stream.Next(dctx)
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return nil, s.p.callError("call", err)
	}
	return m, err
}
