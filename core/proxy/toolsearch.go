package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/pipeline"
	"github.com/gatehouse-mcp/gatehouse/core/toolsearch"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// This file is tool search at the endpoints (docs/tool-search.md): an
// endpoint with it on answers tools/list with the two meta-tools,
// search_tools over the caller's own listing (as the chain narrowed it:
// tool pins, then policies), and turns call_tool into the real tools/call
// sent down the endpoint's normal call path, so every stage of the chain
// runs on it as on a direct call. It is an endpoint hook, not a stage: a
// search on /mcp spans every connector, while an exchange of the chain
// is one connector's, and the search reads the chain's own output.

// ToolSearch says which endpoints offer tool search (config tool_search).
type ToolSearch struct {
	// Aggregate: the aggregate endpoint /mcp (and /sse) offers it.
	Aggregate bool
	// Connectors is the default for /mcp/{slug}; a connector's
	// advanced.tool_search overrides it.
	Connectors bool
}

// searchCacheSize is how many listings' indexes the proxy keeps: callers
// who see the same tools share one; a listing that changed is a new one.
// An index of 10 000 tools holds ~9 MB (its listing included), so the
// cache stays under ~80 MB even then.
const searchCacheSize = 8

// searchesOn reports whether slug's endpoint ("" the aggregate) offers
// tool search.
func (p *Proxy) searchesOn(slug string) bool {
	if slug == "" {
		return p.opts.ToolSearch.Aggregate
	}
	c, ok := p.connectors.Lookup(slug)
	return ok && c.Advanced.ToolSearchEnabled(p.opts.ToolSearch.Connectors)
}

// searchInstructions is what the aggregate's initialize instructions add
// when tool search is on there.
func (p *Proxy) searchInstructions() string {
	if !p.searchesOn("") {
		return ""
	}
	return " tools/list shows " + toolsearch.SearchName + " and " + toolsearch.CallName + ": find the tools for a task with " +
		toolsearch.SearchName + ", then call one with " + toolsearch.CallName + "."
}

// searchEndpoint is what tool search needs of an endpoint.
type searchEndpoint struct {
	// list returns the caller's tools/list items, narrowed by the chain.
	list func(ctx context.Context, req *mcp.Message) ([]json.RawMessage, error)
	// call sends a tools/call down the endpoint's normal call path.
	call func(ctx context.Context, req *mcp.Message) (upstream.Stream, error)
}

// searchAnswer serves tools/list and the two meta-tools on an endpoint
// with tool search on; handled is false for every other request (a direct
// tools/call of a real tool included: it goes on as usual).
func (p *Proxy) searchAnswer(ctx context.Context, req *mcp.Message, ep searchEndpoint) (st upstream.Stream, handled bool, err error) {
	switch req.Method {
	case mcp.MethodToolsList:
		return answer(upstream.NewQueue(0), req, toolsearch.ListResult()), true, nil
	case mcp.MethodToolsCall:
	default:
		return nil, false, nil
	}
	switch req.TargetName() {
	case toolsearch.SearchName:
		st, err := p.searchTools(ctx, req, ep)
		return st, true, err
	case toolsearch.CallName:
		real, err := toolsearch.RealCall(req)
		if err != nil {
			return toolErrorAnswer(req, err)
		}
		st, err := ep.call(ctx, real)
		return st, true, err
	}
	return nil, false, nil
}

// searchTools answers search_tools: the caller's listing, indexed (or
// its index reused), searched.
func (p *Proxy) searchTools(ctx context.Context, req *mcp.Message, ep searchEndpoint) (upstream.Stream, error) {
	args, err := toolsearch.ParseSearch(req.Params)
	if err != nil {
		st, _, err := toolErrorAnswer(req, err)
		return st, err
	}
	items, err := ep.list(ctx, req)
	if err != nil {
		return nil, err
	}
	hits := p.search.Index(items).Search(args.Query, args.Limit)
	res, err := toolsearch.SearchResult(args, hits)
	if err != nil {
		return nil, err
	}
	return answer(upstream.NewQueue(0), req, res), nil
}

// toolErrorAnswer answers a meta-tool call with wrong arguments as a tool
// error (isError), as the chain answers any tool's invalid arguments.
func toolErrorAnswer(req *mcp.Message, err error) (upstream.Stream, bool, error) {
	var bad *toolsearch.ArgumentError
	if !errors.As(err, &bad) {
		return nil, true, err
	}
	return answer(upstream.NewQueue(0), req, toolsearch.ToolError(bad.Msg)), true, nil
}

// listPages fetches every page of a tools/list through call; id names
// the gateway's own requests.
func listPages(ctx context.Context, id string, call func(context.Context, *mcp.Message) (upstream.Stream, error)) ([]json.RawMessage, error) {
	var items []json.RawMessage
	cursor := ""
	for page := 0; page < maxListPages; page++ {
		params := map[string]any{}
		if cursor != "" {
			params["cursor"] = cursor
		}
		req, err := mcp.NewRequest(json.RawMessage(strconv.Quote(id+"-"+strconv.Itoa(page))), mcp.MethodToolsList, params)
		if err != nil {
			return nil, err
		}
		st, err := call(ctx, req)
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
			Tools      []json.RawMessage `json:"tools"`
			NextCursor string            `json:"nextCursor"`
		}
		if err := json.Unmarshal(m.Result, &r); err != nil {
			return nil, fmt.Errorf("read tools/list: %w", err)
		}
		items = append(items, r.Tools...)
		if r.NextCursor == "" {
			break
		}
		cursor = r.NextCursor
	}
	return items, nil
}

// searchEndpoint is a connector session's: its listing and calls run
// the chain exactly as the client's own requests do.
func (s *Session) searchEndpoint() searchEndpoint {
	run := func(ctx context.Context, req *mcp.Message) (upstream.Stream, error) {
		c, _ := s.proxy.connectors.Lookup(s.Slug)
		x := &pipeline.Exchange{Principal: s.who(), Slug: s.Slug, Connector: c, Request: req, Start: time.Now(), Asker: s}
		return s.proxy.chain.Run(ctx, x, s.toUpstream)
	}
	return searchEndpoint{
		list: func(ctx context.Context, req *mcp.Message) ([]json.RawMessage, error) {
			return listPages(ctx, "gatehouse-search-"+req.IDKey(), run)
		},
		call: func(ctx context.Context, req *mcp.Message) (upstream.Stream, error) {
			if rpcErr := s.proxy.opts.Limits.nameError(req, false); rpcErr != nil {
				return nil, rpcErr
			}
			return run(ctx, req)
		},
	}
}

// searchEndpoint is the aggregate's: its merged, namespaced listing (each
// connector's through that connector's chain) and its routing by name.
func (a *aggregate) searchEndpoint() searchEndpoint {
	return searchEndpoint{
		list: func(ctx context.Context, req *mcp.Message) ([]json.RawMessage, error) {
			return listPages(ctx, "gatehouse-search-"+req.IDKey(), func(ctx context.Context, lr *mcp.Message) (upstream.Stream, error) {
				return a.list(ctx, lr, "tools", true)
			})
		},
		call: func(ctx context.Context, req *mcp.Message) (upstream.Stream, error) {
			return a.routeByName(ctx, req, nil)
		},
	}
}
