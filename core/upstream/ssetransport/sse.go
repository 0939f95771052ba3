// Package ssetransport is the legacy HTTP+SSE upstream transport (protocol
// 2024-11-05): a long-lived GET stream announces, in an "endpoint" event,
// the URL the client POSTs its messages to; every server message, answers
// included, arrives on that one stream. A single stream per session means
// answers are matched to calls by the shared upstream.Router.
package ssetransport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/sse"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// Config describes the upstream SSE endpoint.
type Config struct {
	URL     string
	Headers map[string]string
	// PerRequest, when set, supplies headers taken anew for each POST
	// and set over Headers (credentials that change within a session).
	PerRequest      func(context.Context) (map[string]string, error)
	Client          *http.Client
	MaxMessageBytes int
	Log             zerolog.Logger
}

// Conn is one SSE session.
type Conn struct {
	cfg      Config
	endpoint string
	router   *upstream.Router
	body     io.ReadCloser
	cancel   context.CancelFunc

	closeOnce sync.Once
	done      chan struct{}
}

// Dial opens the stream and waits (bounded by ctx) for the endpoint event.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 16 << 20
	}
	streamCtx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(streamCtx, http.MethodGet, cfg.URL, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%w: %w", upstream.ErrUnavailable, err)
	}
	for k, v := range cfg.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Accept", "text/event-stream")
	stop := context.AfterFunc(ctx, cancel) // abandon the dial with ctx
	resp, err := cfg.Client.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%w: %w", upstream.ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("%w: %w", upstream.ErrUnavailable, &upstream.StatusError{StatusCode: resp.StatusCode, Body: string(bytes.TrimSpace(body))})
	}
	reader := sse.NewReader(resp.Body, cfg.MaxMessageBytes)
	ev, err := reader.Next()
	stop()
	if err != nil || ev.Type != "endpoint" {
		resp.Body.Close()
		cancel()
		if err == nil {
			err = fmt.Errorf("first event is %q, want \"endpoint\"", ev.Type)
		}
		return nil, fmt.Errorf("%w: SSE handshake: %w", upstream.ErrUnavailable, err)
	}
	endpoint, err := resolveEndpoint(cfg.URL, string(ev.Data))
	if err != nil {
		resp.Body.Close()
		cancel()
		return nil, err
	}
	c := &Conn{cfg: cfg, endpoint: endpoint, router: upstream.NewRouter(), body: resp.Body, cancel: cancel, done: make(chan struct{})}
	go c.readLoop(reader)
	return c, nil
}

// resolveEndpoint resolves the announced POST URL and refuses one on
// another origin: the connector's credentials must not travel there.
func resolveEndpoint(base, announced string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("%w: %w", upstream.ErrUnavailable, err)
	}
	e, err := b.Parse(string(bytes.TrimSpace([]byte(announced))))
	if err != nil {
		return "", fmt.Errorf("%w: bad endpoint event %q: %w", upstream.ErrUnavailable, announced, err)
	}
	if e.Scheme != b.Scheme || e.Host != b.Host {
		return "", fmt.Errorf("%w: the SSE endpoint event points to another origin (%s)", upstream.ErrUnavailable, e.Redacted())
	}
	return e.String(), nil
}

func (c *Conn) readLoop(r *sse.Reader) {
	defer close(c.done)
	for {
		ev, err := r.Next()
		if err != nil {
			c.router.Fail(fmt.Errorf("%w: SSE stream ended: %v", upstream.ErrClosed, err))
			return
		}
		if ev.Type != "message" || len(ev.Data) == 0 {
			continue
		}
		m, perr := mcp.Parse(ev.Data)
		if perr != nil {
			c.cfg.Log.Warn().Str("error", perr.Message).Msg("upstream sent an SSE event that is not a JSON-RPC message; dropped")
			continue
		}
		c.router.Dispatch(m)
	}
}

func (c *Conn) post(ctx context.Context, m *mcp.Message) error {
	select {
	case <-c.done:
		return upstream.ErrClosed
	default:
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(m.Bytes()))
	if err != nil {
		return fmt.Errorf("%w: %w", upstream.ErrUnavailable, err)
	}
	for k, v := range c.cfg.Headers {
		req.Header.Set(k, v)
	}
	if c.cfg.PerRequest != nil {
		h, err := c.cfg.PerRequest(ctx)
		if err != nil {
			return err
		}
		for k, v := range h {
			req.Header.Set(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %w", upstream.ErrUnavailable, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusNotFound:
		return upstream.ErrSessionExpired
	default:
		return fmt.Errorf("%w: %w", upstream.ErrUnavailable, &upstream.StatusError{StatusCode: resp.StatusCode, Body: string(bytes.TrimSpace(body))})
	}
}

// Call implements upstream.Conn.
func (c *Conn) Call(ctx context.Context, req *mcp.Message) (upstream.Stream, error) {
	s, err := c.router.Register(req)
	if err != nil {
		return nil, err
	}
	if err := c.post(ctx, req); err != nil {
		c.router.Forget(req)
		return nil, err
	}
	return s, nil
}

// Send implements upstream.Conn.
func (c *Conn) Send(ctx context.Context, m *mcp.Message) error { return c.post(ctx, m) }

// Listen implements upstream.Conn: messages tied to no call.
func (c *Conn) Listen(context.Context) (upstream.Stream, error) {
	return upstream.SharedStream(c.router.Events()), nil
}

// Close implements upstream.Conn: dropping the stream ends the session.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.cancel()
		c.body.Close()
		select {
		case <-c.done:
		case <-time.After(2 * time.Second):
		}
	})
	return nil
}
