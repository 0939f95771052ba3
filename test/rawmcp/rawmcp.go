// Package rawmcp is a minimal Streamable HTTP MCP session for test tools
// that choose their own JSON-RPC bodies and ids (the load test, the audit
// durability test): no SDK in the way of what goes on the wire.
package rawmcp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Session is one 2025-11-25 session; ID is set by the first answer that
// carries Mcp-Session-Id.
type Session struct {
	Client *http.Client
	URL    string
	ID     string
}

// Post sends one JSON-RPC body and returns the answer's body; an HTTP
// status of 300 or more is an error carrying the body.
func (s *Session) Post(ctx context.Context, body string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	if s.ID != "" {
		req.Header.Set("Mcp-Session-Id", s.ID)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if sid := resp.Header.Get("Mcp-Session-Id"); sid != "" {
		s.ID = sid
	}
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, data)
	}
	return data, nil
}
