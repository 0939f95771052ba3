package proxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/toolsearch"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/streamhttp"
)

// sessionlessSearch is tool search on the sessionless 2026-07-28
// passthrough (a modern client on /mcp/{slug} of a modern upstream): the
// listing it searches and the real call of call_tool run through
// sessionless (the chain) as the client's own requests do, with the
// routing headers the upstream checks set for them. handled is false for
// every other request.
func (p *Proxy) sessionlessSearch(ctx context.Context, principal auth.Principal, slug string, conn *streamhttp.Conn, msg *mcp.Message, headers map[string]string) (SessionlessReply, bool) {
	if slug == "" || principal.System || !p.searchesOn(slug) {
		return SessionlessReply{}, false
	}
	switch msg.Method {
	case mcp.MethodToolsList:
		_, envelope, failed := p.sessionlessList(ctx, principal, slug, conn, msg, headers)
		if failed != nil {
			return *failed, true
		}
		var meta map[string]json.RawMessage
		_ = json.Unmarshal(toolsearch.ListResult(), &meta)
		delete(envelope, "nextCursor")
		envelope["tools"] = meta["tools"]
		return wholeResult(msg, envelope), true
	case mcp.MethodToolsCall:
	default:
		return SessionlessReply{}, false
	}
	switch msg.TargetName() {
	case toolsearch.SearchName:
		args, err := toolsearch.ParseSearch(msg.Params)
		if err != nil {
			return sessionlessToolError(msg, err), true
		}
		items, envelope, failed := p.sessionlessList(ctx, principal, slug, conn, msg, headers)
		if failed != nil {
			return *failed, true
		}
		res, err := toolsearch.SearchResult(args, p.search.Index(items).Search(args.Query, args.Limit))
		if err != nil {
			return SessionlessReply{Failed: err}, true
		}
		var out map[string]json.RawMessage
		_ = json.Unmarshal(res, &out)
		if m, ok := envelope["_meta"]; ok {
			out["_meta"] = m // the upstream's serverInfo, as on its own answers
		}
		return wholeResult(msg, out), true
	case toolsearch.CallName:
		real, err := toolsearch.RealCall(msg)
		if err != nil {
			return sessionlessToolError(msg, err), true
		}
		h := routing(headers, mcp.MethodToolsCall, real.TargetName())
		// The real tool's x-mcp-header arguments travel as Mcp-Param-*
		// headers too (the client sent none: call_tool's schema has none).
		items, _, failed := p.sessionlessList(ctx, principal, slug, conn, msg, headers)
		if failed != nil {
			return *failed, true
		}
		for name, value := range paramHeaders(items, real) {
			h[name] = value
		}
		return p.sessionless(ctx, principal, slug, conn, real, h), true
	}
	return SessionlessReply{}, false
}

// sessionlessList lists slug's tools through the chain, every page, with
// the client's _meta; it returns the items, the first page's result
// without them (its _meta, ttlMs, cacheScope…), or the reply that ended
// it (a refusal, a failure, the upstream's error).
func (p *Proxy) sessionlessList(ctx context.Context, principal auth.Principal, slug string, conn *streamhttp.Conn, msg *mcp.Message, headers map[string]string) ([]json.RawMessage, map[string]json.RawMessage, *SessionlessReply) {
	var clientMeta json.RawMessage
	var params map[string]json.RawMessage
	if json.Unmarshal(msg.Params, &params) == nil {
		clientMeta = params["_meta"]
	}
	var items []json.RawMessage
	var envelope map[string]json.RawMessage
	cursor := ""
	for page := 0; page < maxListPages; page++ {
		lp := map[string]any{}
		if clientMeta != nil {
			lp["_meta"] = clientMeta
		}
		if cursor != "" {
			lp["cursor"] = cursor
		}
		req, err := mcp.NewRequest(json.RawMessage(strconv.Quote("gatehouse-search-"+strconv.Itoa(page))), mcp.MethodToolsList, lp)
		if err != nil {
			return nil, nil, &SessionlessReply{Failed: err}
		}
		r := p.sessionless(ctx, principal, slug, conn, req, routing(headers, mcp.MethodToolsList, ""))
		m, failed := replyMessage(ctx, r)
		if failed != nil {
			return nil, nil, failed
		}
		if m.Error != nil {
			return nil, nil, &SessionlessReply{Err: m.Error, Status: http.StatusOK}
		}
		var result map[string]json.RawMessage
		if err := json.Unmarshal(m.Result, &result); err != nil {
			return nil, nil, &SessionlessReply{Err: mcp.Errorf(mcp.CodeUpstreamProtocol, "connector %q answered tools/list with no result the gateway can read", slug), Status: http.StatusBadGateway}
		}
		var pageItems []json.RawMessage
		_ = json.Unmarshal(result["tools"], &pageItems)
		items = append(items, pageItems...)
		next := ""
		_ = json.Unmarshal(result["nextCursor"], &next)
		if envelope == nil {
			envelope = result
			delete(envelope, "tools")
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return items, envelope, nil
}

// replyMessage reads the answer out of a sessionless reply (a whole body
// or a stream); a refusal or failure comes back as the reply to give.
func replyMessage(ctx context.Context, r SessionlessReply) (*mcp.Message, *SessionlessReply) {
	switch {
	case r.Err != nil || r.Failed != nil:
		return nil, &r
	case r.Stream != nil:
		defer r.Done()
		for {
			m, err := r.Stream.Next(ctx)
			if err != nil {
				return nil, &SessionlessReply{Failed: err}
			}
			if m.Kind() == mcp.KindResponse {
				return m, nil
			}
		}
	}
	m, rpcErr := mcp.Parse(r.Body)
	if rpcErr != nil {
		return nil, &SessionlessReply{Err: mcp.NewError(mcp.CodeUpstreamProtocol, "the upstream's tools/list answer is not JSON-RPC"), Status: http.StatusBadGateway}
	}
	return m, nil
}

// routing is the client's headers with the routing headers of another
// request: Mcp-Method and Mcp-Name set (name "" drops it), the client's
// Mcp-Param-* (they were the meta-tool's) dropped.
func routing(headers map[string]string, method, name string) map[string]string {
	out := make(map[string]string, len(headers))
	for k, v := range headers {
		switch {
		case strings.EqualFold(k, mcp.HeaderMethod), strings.EqualFold(k, mcp.HeaderName),
			len(k) > len("Mcp-Param-") && strings.EqualFold(k[:len("Mcp-Param-")], "Mcp-Param-"):
			continue
		}
		out[k] = v
	}
	out[mcp.HeaderMethod] = method
	if name != "" {
		out[mcp.HeaderName] = name
	}
	return out
}

// wholeResult is a JSON answer to msg with result.
func wholeResult(msg *mcp.Message, result map[string]json.RawMessage) SessionlessReply {
	raw, err := json.Marshal(result)
	if err != nil {
		return SessionlessReply{Failed: err}
	}
	return SessionlessReply{Status: http.StatusOK, ContentType: "application/json", Body: (&mcp.Message{JSONRPC: "2.0", ID: msg.ID, Result: raw}).Bytes()}
}

// sessionlessToolError answers a meta-tool call's wrong arguments as a
// tool error.
func sessionlessToolError(msg *mcp.Message, err error) SessionlessReply {
	var bad *toolsearch.ArgumentError
	if !errors.As(err, &bad) {
		return SessionlessReply{Failed: err}
	}
	var result map[string]json.RawMessage
	_ = json.Unmarshal(toolsearch.ToolError(bad.Msg), &result)
	return wholeResult(msg, result)
}

// paramHeaders are the Mcp-Param-* headers of a tools/call: for each
// argument sent that the listed tool's input schema marks x-mcp-header,
// its header form (strings as they are, other values as JSON), Base64
// wrapped ("=?base64?…?=") unless it is plain printable ASCII.
func paramHeaders(items []json.RawMessage, call *mcp.Message) map[string]string {
	var p struct {
		Name      string                     `json:"name"`
		Arguments map[string]json.RawMessage `json:"arguments"`
	}
	if json.Unmarshal(call.Params, &p) != nil {
		return nil
	}
	out := map[string]string{}
	for _, item := range items {
		var tool struct {
			Name        string `json:"name"`
			InputSchema struct {
				Properties map[string]struct {
					Header string `json:"x-mcp-header"`
				} `json:"properties"`
			} `json:"inputSchema"`
		}
		if json.Unmarshal(item, &tool) != nil || tool.Name != p.Name {
			continue
		}
		for arg, prop := range tool.InputSchema.Properties {
			raw, sent := p.Arguments[arg]
			if prop.Header == "" || !sent {
				continue
			}
			out["Mcp-Param-"+prop.Header] = encodeParamHeader(argumentText(raw))
		}
		break
	}
	return out
}

// encodeParamHeader is decodeParamHeader's inverse.
func encodeParamHeader(v string) string {
	plain := v == strings.TrimSpace(v) && !strings.HasPrefix(v, "=?base64?")
	for i := 0; plain && i < len(v); i++ {
		plain = v[i] >= 0x20 && v[i] < 0x7f
	}
	if plain {
		return v
	}
	return "=?base64?" + base64.StdEncoding.EncodeToString([]byte(v)) + "?="
}
