package streamhttp

import (
	"context"
	"fmt"
	"mime"
	"net/http"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// Reply is an upstream's answer to a forwarded modern-era request, kept
// close to the wire so the gateway can relay status and body faithfully.
type Reply struct {
	Status      int
	ContentType string
	// Body holds a non-streamed answer (JSON, or an error body).
	Body []byte
	// Stream is set instead of Body when the upstream answered with SSE.
	Stream upstream.Stream
}

// Forward sends one sessionless (2026-07-28) request with the client's
// routing headers and returns the upstream's answer as it came, whatever
// its status: a modern server's 4xx bodies carry errors the client must see.
func (c *Conn) Forward(ctx context.Context, msg *mcp.Message, headers map[string]string) (*Reply, error) {
	req, err := c.newRequest(ctx, http.MethodPost, msg.Bytes())
	if err != nil {
		return nil, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	r := &Reply{Status: resp.StatusCode, ContentType: ct}
	if ct == "text/event-stream" && resp.StatusCode < 300 {
		r.Stream = c.newEventStream(ctx, resp, msg.IDKey())
		return r, nil
	}
	defer resp.Body.Close()
	r.Body, err = readLimited(resp.Body, c.cfg.MaxMessageBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: read response: %w", upstream.ErrUnavailable, err)
	}
	return r, nil
}
