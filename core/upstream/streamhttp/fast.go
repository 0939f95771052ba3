package streamhttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// maxStreamLife caps one upstream POST's answer, streamed or not: the
// fasthttp client has no context, so a deadline is what finally frees the
// connection of an upstream that never finishes. Callers stop waiting at
// their own timeout; this only bounds the leak.
const maxStreamLife = time.Hour

// NewFastClient returns the fasthttp client that carries a connector's
// calls. net/http pays two goroutines and channel hand-offs per request;
// fasthttp reuses connections and buffers without them, which is most of
// the gateway's per-call cost (docs/decisions.md). dial, when set, makes
// its connections (the SSRF guard's dialer); nil dials directly.
func NewFastClient(dial func(ctx context.Context, network, address string) (net.Conn, error)) *fasthttp.Client {
	if dial == nil {
		d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
		dial = d.DialContext
	}
	return &fasthttp.Client{
		Name:                          "gatehouse",
		NoDefaultUserAgentHeader:      false,
		MaxConnsPerHost:               1024,
		MaxIdleConnDuration:           90 * time.Second,
		StreamResponseBody:            true,
		DisableHeaderNamesNormalizing: false,
		Dial: func(addr string) (net.Conn, error) {
			return dial(context.Background(), "tcp", addr)
		},
	}
}

// doFast runs one exchange up to the response headers (the body streams)
// and releases req. fasthttp takes no context. When ctx has a deadline the
// exchange runs on the caller's goroutine bounded by it: a hand-off to
// another goroutine costs about 100 µs of wake-up latency per call on a
// busy machine, two thirds of the gateway's whole budget. An earlier
// cancellation of such a ctx then takes effect once the headers arrive,
// which a JSON answer sends with its body and an SSE one at once. Without
// a deadline the exchange runs in its own goroutine and the caller stops
// waiting when ctx ends; the goroutine releases what the exchange produced
// when it returns (bounded by maxStreamLife). On error resp is released.
func (c *Conn) doFast(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response) error {
	if deadline, ok := ctx.Deadline(); ok {
		err := c.cfg.Fast.DoDeadline(req, resp, deadline)
		fasthttp.ReleaseRequest(req)
		if err == nil && ctx.Err() != nil {
			_ = resp.CloseBodyStream()
			err = ctx.Err()
		}
		if err != nil {
			fasthttp.ReleaseResponse(resp)
			// fasthttp's deadline is ctx's: its timeout is ctx's, even
			// when ctx's own timer has not fired yet.
			if errors.Is(err, fasthttp.ErrTimeout) {
				return context.DeadlineExceeded
			}
		}
		return err
	}
	done := make(chan error, 1)
	abandoned := make(chan struct{})
	go func() {
		err := c.cfg.Fast.DoDeadline(req, resp, time.Now().Add(maxStreamLife))
		fasthttp.ReleaseRequest(req)
		select {
		case done <- err:
		case <-abandoned:
			if err == nil {
				_ = resp.CloseBodyStream()
			}
			fasthttp.ReleaseResponse(resp)
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			fasthttp.ReleaseResponse(resp)
		}
		return err
	case <-ctx.Done():
		close(abandoned)
		return ctx.Err()
	}
}

// callFast is Call over the fasthttp client.
func (c *Conn) callFast(ctx context.Context, msg *mcp.Message) (upstream.Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	sid, ver, closed := c.sessionID, c.version, c.closed
	c.mu.Unlock()
	if closed {
		return nil, upstream.ErrClosed
	}
	var perRequest map[string]string
	if c.cfg.PerRequest != nil {
		h, err := c.cfg.PerRequest(ctx)
		if err != nil {
			return nil, err
		}
		perRequest = h
	}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	req.SetRequestURI(c.cfg.URL)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range c.cfg.Headers {
		req.Header.Set(k, v)
	}
	for k, v := range perRequest {
		req.Header.Set(k, v)
	}
	if sid != "" {
		req.Header.Set(mcp.HeaderSessionID, sid)
	}
	if ver != "" {
		req.Header.Set(mcp.HeaderProtocolVersion, ver)
	}
	// Copied: msg may alias the client request's buffer, which fasthttp
	// reuses once the handler returns, while this exchange may outlive it.
	req.SetBody(msg.Bytes())
	resp.StreamBody = true
	err := c.doFast(ctx, req, resp)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return nil, err
	}
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", upstream.ErrUnavailable, err)
	}
	status := resp.StatusCode()
	ct := string(resp.Header.ContentType())
	if status < 200 || status >= 300 || status == fasthttp.StatusAccepted {
		body, _ := readLimited(resp.BodyStream(), 512)
		_ = resp.CloseBodyStream()
		fasthttp.ReleaseResponse(resp)
		switch {
		case status == fasthttp.StatusAccepted:
			return nil, fmt.Errorf("%w: upstream answered 202 Accepted to a request", upstream.ErrUnavailable)
		case status == fasthttp.StatusNotFound && sid != "":
			return nil, upstream.ErrSessionExpired
		}
		return nil, fmt.Errorf("%w: %w", upstream.ErrUnavailable, &upstream.StatusError{StatusCode: status, Body: strings.TrimSpace(string(body))})
	}
	switch {
	case strings.HasPrefix(ct, "application/json"):
		body, err := readLimited(resp.BodyStream(), c.cfg.MaxMessageBytes)
		_ = resp.CloseBodyStream()
		fasthttp.ReleaseResponse(resp)
		if err != nil {
			return nil, fmt.Errorf("%w: read response: %w", upstream.ErrUnavailable, err)
		}
		m, perr := mcp.Parse(body)
		if perr != nil {
			return nil, fmt.Errorf("%w: upstream sent an invalid message: %s", upstream.ErrUnavailable, perr.Message)
		}
		return &single{m: m}, nil
	case strings.HasPrefix(ct, "text/event-stream"):
		// A pipe decouples the stream from fasthttp's reader, which is not
		// safe to close while another goroutine reads it: closing the pipe
		// is, and the copier then stops and releases the response.
		pr, pw := io.Pipe()
		go func() {
			_, err := io.Copy(pw, resp.BodyStream())
			_ = pw.CloseWithError(err)
			_ = resp.CloseBodyStream()
			fasthttp.ReleaseResponse(resp)
		}()
		return c.eventStreamFrom(ctx, pr, msg.IDKey()), nil
	default:
		_ = resp.CloseBodyStream()
		fasthttp.ReleaseResponse(resp)
		return nil, fmt.Errorf("%w: upstream answered with content type %q", upstream.ErrUnavailable, ct)
	}
}
