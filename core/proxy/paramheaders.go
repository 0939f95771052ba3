package proxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
)

// toolHeaders maps a tool name to its argument → header-name bindings.
type toolHeaders map[string]map[string]string

// headerBindings returns, for each tool of the shared session's upstream,
// which arguments travel as Mcp-Param-* headers; fetched once.
func (sh *sharedSession) headerBindings(ctx context.Context) (toolHeaders, error) {
	sh.mu.Lock()
	if sh.bindings != nil {
		b := sh.bindings
		sh.mu.Unlock()
		return b, nil
	}
	sh.mu.Unlock()
	out := toolHeaders{}
	cursor := ""
	for page := 0; page < maxListPages; page++ {
		params := map[string]any{}
		if cursor != "" {
			params["cursor"] = cursor
		}
		req, err := mcp.NewRequest(json.RawMessage(`"gh-tools-`+strconv.Itoa(page)+`"`), mcp.MethodToolsList, params)
		if err != nil {
			return nil, err
		}
		st, err := sh.session.Call(ctx, req)
		if err != nil {
			return nil, err
		}
		m, err := lastMessage(ctx, st)
		if err != nil {
			return nil, err
		}
		if m.Error != nil {
			return nil, m.Error
		}
		var r struct {
			Tools []struct {
				Name        string `json:"name"`
				InputSchema struct {
					Properties map[string]struct {
						Header string `json:"x-mcp-header"`
					} `json:"properties"`
				} `json:"inputSchema"`
			} `json:"tools"`
			NextCursor string `json:"nextCursor"`
		}
		if err := json.Unmarshal(m.Result, &r); err != nil {
			return nil, err
		}
		for _, tool := range r.Tools {
			for arg, prop := range tool.InputSchema.Properties {
				if prop.Header == "" {
					continue
				}
				if out[tool.Name] == nil {
					out[tool.Name] = map[string]string{}
				}
				out[tool.Name][arg] = strings.ToLower(prop.Header)
			}
		}
		if r.NextCursor == "" {
			break
		}
		cursor = r.NextCursor
	}
	sh.mu.Lock()
	sh.bindings = out
	sh.mu.Unlock()
	return out, nil
}

// checkParamHeaders verifies a tools/call's Mcp-Param-* headers (keys
// lowercased, without the prefix) against its arguments: every bound
// argument sent must have its header with the same value, plain or
// "=?base64?…?=" encoded, and no header may name an argument not sent.
func checkParamHeaders(bindings toolHeaders, req *mcp.Message, headers map[string]string) *mcp.Error {
	var p struct {
		Name      string                     `json:"name"`
		Arguments map[string]json.RawMessage `json:"arguments"`
	}
	if json.Unmarshal(req.Params, &p) != nil {
		return nil // the upstream reports malformed params
	}
	bound := bindings[p.Name]
	seen := map[string]bool{}
	for arg, header := range bound {
		raw, sent := p.Arguments[arg]
		value, has := headers[header]
		seen[header] = true
		switch {
		case !sent && !has:
		case sent && !has:
			return mcp.Errorf(mcp.CodeHeaderMismatch, "header mismatch: argument %q must also be sent as the Mcp-Param-%s header", arg, header)
		case !sent && has:
			return mcp.Errorf(mcp.CodeHeaderMismatch, "header mismatch: Mcp-Param-%s is sent but argument %q is not", header, arg)
		default:
			decoded, ok := decodeParamHeader(value)
			if !ok {
				return mcp.Errorf(mcp.CodeHeaderMismatch, "header mismatch: Mcp-Param-%s is not valid Base64", header)
			}
			if decoded != argumentText(raw) {
				return mcp.Errorf(mcp.CodeHeaderMismatch, "header mismatch: Mcp-Param-%s does not match argument %q", header, arg)
			}
		}
	}
	for header := range headers {
		if !seen[header] {
			return mcp.Errorf(mcp.CodeHeaderMismatch, "header mismatch: Mcp-Param-%s names no argument of tool %q", header, p.Name)
		}
	}
	return nil
}

// decodeParamHeader undoes the "=?base64?…?=" wrapping (standard Base64
// with padding); other values are literal.
func decodeParamHeader(v string) (string, bool) {
	v = strings.TrimSpace(v)
	inner, ok := strings.CutPrefix(v, "=?base64?")
	if !ok {
		return v, true
	}
	inner, ok = strings.CutSuffix(inner, "?=")
	if !ok {
		return v, true
	}
	b, err := base64.StdEncoding.DecodeString(inner)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// argumentText is an argument's header form: strings as they are, other
// JSON values as their JSON text.
func argumentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}
