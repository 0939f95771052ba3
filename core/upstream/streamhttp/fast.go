package streamhttp

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
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
// the gateway's per-call cost (docs/decisions.md). control, when set,
// vets every dialled address (SSRF protection).
func NewFastClient(control func(network, address string, c syscall.RawConn) error) *fasthttp.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: control}
	return &fasthttp.Client{
		Name:                          "gatehouse",
		NoDefaultUserAgentHeader:      false,
		MaxConnsPerHost:               1024,
		MaxIdleConnDuration:           90 * time.Second,
		StreamResponseBody:            true,
		DisableHeaderNamesNormalizing: false,
		Dial: func(addr string) (net.Conn, error) {
			return d.Dial("tcp", addr)
		},
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
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	req.SetRequestURI(c.cfg.URL)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range c.cfg.Headers {
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
	// fasthttp takes no context: the exchange runs in its own goroutine and
	// a caller whose ctx ends stops waiting; the goroutine then releases
	// what the exchange produced when it returns (bounded by maxStreamLife).
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
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		close(abandoned)
		return nil, ctx.Err()
	}
	if err != nil {
		fasthttp.ReleaseResponse(resp)
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
