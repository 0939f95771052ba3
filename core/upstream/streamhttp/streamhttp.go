// Package streamhttp is the Streamable HTTP upstream transport: each
// request is a POST answered with JSON or an SSE stream, the GET stream
// carries unsolicited server messages, DELETE ends the session. One
// *http.Client (one connection pool) serves every session of a connector.
package streamhttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// Config describes the upstream endpoint.
type Config struct {
	URL string
	// Headers go on every request (already expanded: no placeholders).
	Headers map[string]string
	// PerRequest, when set, supplies headers taken anew for each request
	// and set over Headers: credentials that change within a session (an
	// upstream OAuth token refreshed before it expires, a short-lived
	// identity JWT). Its error fails the request as it is.
	PerRequest func(context.Context) (map[string]string, error)
	// Client is the connector's shared client; its Transport is the pool.
	Client *http.Client
	// Fast, when set, carries requests after initialize (the hot path);
	// Client still carries initialize, the GET stream and DELETE.
	Fast *fasthttp.Client
	// MaxMessageBytes bounds one message (default 16 MiB).
	MaxMessageBytes int
	Log             zerolog.Logger
}

// NewClient returns an http.Client tuned for one upstream: keep-alive
// connections enough for a busy connector, no overall timeout (streams are
// long-lived; calls are bounded by their context).
func NewClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	t.ResponseHeaderTimeout = 0
	// A compressing upstream buffers SSE events until its compressor
	// flushes, which holds progress back; ask for identity encoding.
	t.DisableCompression = true
	return &http.Client{
		Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			// A redirect could carry credentials elsewhere: refuse it.
			return http.ErrUseLastResponse
		},
	}
}

// Conn is one upstream session.
type Conn struct {
	cfg Config

	mu        sync.Mutex
	sessionID string
	version   string
	closed    bool
}

// New returns a session; nothing is sent until the first Call.
func New(cfg Config) *Conn {
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 16 << 20
	}
	if cfg.Client == nil {
		cfg.Client = NewClient()
	}
	return &Conn{cfg: cfg}
}

func (c *Conn) newRequest(ctx context.Context, method string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.URL, rd)
	if err != nil {
		return nil, fmt.Errorf("%w: build request: %w", upstream.ErrUnavailable, err)
	}
	for k, v := range c.cfg.Headers {
		req.Header.Set(k, v)
	}
	if c.cfg.PerRequest != nil {
		h, err := c.cfg.PerRequest(ctx)
		if err != nil {
			return nil, err
		}
		for k, v := range h {
			req.Header.Set(k, v)
		}
	}
	c.mu.Lock()
	sid, ver := c.sessionID, c.version
	c.mu.Unlock()
	if sid != "" {
		req.Header.Set(mcp.HeaderSessionID, sid)
	}
	if ver != "" {
		req.Header.Set(mcp.HeaderProtocolVersion, ver)
	}
	switch method {
	case http.MethodPost:
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
	case http.MethodGet:
		req.Header.Set("Accept", "text/event-stream")
	}
	return req, nil
}

func (c *Conn) do(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, upstream.ErrClosed
	}
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("%w: %w", upstream.ErrUnavailable, err)
	}
	return resp, nil
}

// Call implements upstream.Conn.
func (c *Conn) Call(ctx context.Context, msg *mcp.Message) (upstream.Stream, error) {
	if c.cfg.Fast != nil && msg.Method != mcp.MethodInitialize {
		return c.callFast(ctx, msg)
	}
	req, err := c.newRequest(ctx, http.MethodPost, msg.Bytes())
	if err != nil {
		return nil, err
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	if err := c.checkStatus(resp, true); err != nil {
		return nil, err
	}
	isInit := msg.Method == mcp.MethodInitialize
	if isInit {
		if sid := resp.Header.Get(mcp.HeaderSessionID); sid != "" {
			c.mu.Lock()
			c.sessionID = sid
			c.mu.Unlock()
		}
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var s upstream.Stream
	switch ct {
	case "application/json":
		body, err := readLimited(resp.Body, c.cfg.MaxMessageBytes)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: read response: %w", upstream.ErrUnavailable, err)
		}
		m, perr := mcp.Parse(body)
		if perr != nil {
			return nil, fmt.Errorf("%w: upstream sent an invalid message: %s", upstream.ErrUnavailable, perr.Message)
		}
		s = &single{m: m}
	case "text/event-stream":
		s = c.newEventStream(ctx, resp, msg.IDKey())
	default:
		resp.Body.Close()
		return nil, fmt.Errorf("%w: upstream answered with content type %q", upstream.ErrUnavailable, ct)
	}
	if isInit {
		s = &versionSniffer{Stream: s, conn: c}
	}
	return s, nil
}

// checkStatus turns a failed HTTP answer into an error and closes its body.
func (c *Conn) checkStatus(resp *http.Response, isCall bool) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if isCall && resp.StatusCode == http.StatusAccepted {
			resp.Body.Close()
			return fmt.Errorf("%w: upstream answered 202 Accepted to a request", upstream.ErrUnavailable)
		}
		return nil
	}
	body, _ := readLimited(resp.Body, 512)
	resp.Body.Close()
	c.mu.Lock()
	hadSession := c.sessionID != ""
	c.mu.Unlock()
	if resp.StatusCode == http.StatusNotFound && hadSession {
		return upstream.ErrSessionExpired
	}
	return fmt.Errorf("%w: %w", upstream.ErrUnavailable, &upstream.StatusError{StatusCode: resp.StatusCode, Body: strings.TrimSpace(string(body))})
}

func readLimited(r io.Reader, limit int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, fmt.Errorf("message larger than %d bytes", limit)
	}
	return b, nil
}

// Send implements upstream.Conn.
func (c *Conn) Send(ctx context.Context, msg *mcp.Message) error {
	req, err := c.newRequest(ctx, http.MethodPost, msg.Bytes())
	if err != nil {
		return err
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	if err := c.checkStatus(resp, false); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return nil
}

// Listen implements upstream.Conn: it opens the GET stream. An upstream
// that offers none (405) yields a stream that stays silent until ctx ends.
func (c *Conn) Listen(ctx context.Context) (upstream.Stream, error) {
	req, err := c.newRequest(ctx, http.MethodGet, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusMethodNotAllowed {
		resp.Body.Close()
		return upstream.Silent(), nil
	}
	if err := c.checkStatus(resp, false); err != nil {
		return nil, err
	}
	return c.newEventStream(ctx, resp, ""), nil
}

// Close implements upstream.Conn: it ends the upstream session with DELETE.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	sid := c.sessionID
	c.mu.Unlock()
	if sid != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if req, err := c.newRequest(ctx, http.MethodDelete, nil); err == nil {
			if resp, err := c.do(req); err == nil {
				resp.Body.Close()
			}
		}
	}
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return nil
}

// single is the stream of a plain JSON answer.
type single struct {
	m    *mcp.Message
	done bool
}

func (s *single) Next(context.Context) (*mcp.Message, error) {
	if s.done {
		return nil, io.EOF
	}
	s.done = true
	return s.m, nil
}

func (s *single) Close() error { return nil }

// PlainJSON marks the stream as a JSON answer (see upstream.PlainJSON).
func (s *single) PlainJSON() bool { return true }

// versionSniffer records the negotiated protocol version from the
// initialize result so later requests carry MCP-Protocol-Version.
type versionSniffer struct {
	upstream.Stream
	conn *Conn
}

func (v *versionSniffer) Next(ctx context.Context) (*mcp.Message, error) {
	m, err := v.Stream.Next(ctx)
	if err == nil && m.Kind() == mcp.KindResponse && m.Result != nil {
		if ver := mcp.NegotiatedVersion(m.Result); ver != "" {
			v.conn.mu.Lock()
			v.conn.version = ver
			v.conn.mu.Unlock()
		}
	}
	return m, err
}

// errStreamEnded is returned when an SSE stream ends before the response
// and cannot be resumed.
var errStreamEnded = errors.New("upstream closed the stream before the response")
