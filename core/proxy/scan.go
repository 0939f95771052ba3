package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// scanner is the principal the gateway scans connectors as.
func scanner() auth.Principal {
	return auth.Principal{User: "gatehouse", Roles: []string{auth.RoleOwner}, System: true}
}

// ScanTools lists slug's tools through a session of the gateway's own, so
// the tool pins (and the Tool List Guard) see them at registration rather
// than at the first client's list. Connectors whose headers need a user's
// own values cannot be scanned this way; they are scanned at first use.
func (p *Proxy) ScanTools(ctx context.Context, slug string) (int, error) {
	if p.opts.Tools == nil && p.opts.Access == nil {
		return 0, nil
	}
	init, err := mcp.NewRequest(json.RawMessage(`"gatehouse-scan"`), mcp.MethodInitialize, map[string]any{
		"protocolVersion": "2025-11-25", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "gatehouse-scanner", "version": "1"},
	})
	if err != nil {
		return 0, err
	}
	sess, resp, err := p.Initialize(ctx, scanner(), slug, init)
	if err != nil {
		return 0, fmt.Errorf("scan %s: %w", slug, err)
	}
	if resp != nil && resp.Error != nil {
		return 0, fmt.Errorf("scan %s: initialize: %s", slug, resp.Error.Message)
	}
	if sess == nil {
		return 0, fmt.Errorf("scan %s: no session", slug)
	}
	defer p.CloseSession(sess.ID)
	if err := sess.Send(ctx, &mcp.Message{JSONRPC: "2.0", Method: mcp.MethodInitialized}); err != nil {
		return 0, fmt.Errorf("scan %s: %w", slug, err)
	}
	seen, cursor := 0, ""
	for page := 0; page < maxListPages; page++ {
		params := map[string]any{}
		if cursor != "" {
			params["cursor"] = cursor
		}
		req, err := mcp.NewRequest(json.RawMessage(`"gatehouse-scan-`+strconv.Itoa(page)+`"`), mcp.MethodToolsList, params)
		if err != nil {
			return seen, err
		}
		st, err := sess.Call(ctx, req)
		if err != nil {
			return seen, fmt.Errorf("scan %s: %w", slug, err)
		}
		m, err := lastMessage(ctx, st)
		if err != nil {
			return seen, fmt.Errorf("scan %s: %w", slug, err)
		}
		if m.Error != nil {
			return seen, fmt.Errorf("scan %s: tools/list: %s", slug, m.Error.Message)
		}
		var r struct {
			Tools      []json.RawMessage `json:"tools"`
			NextCursor string            `json:"nextCursor"`
		}
		if err := json.Unmarshal(m.Result, &r); err != nil {
			return seen, fmt.Errorf("scan %s: %w", slug, err)
		}
		seen += len(r.Tools)
		if r.NextCursor == "" {
			break
		}
		cursor = r.NextCursor
	}
	return seen, nil
}
