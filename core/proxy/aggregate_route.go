package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/offload"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
)

// This file holds how the aggregate lists and routes: fan-out listings
// with namespacing, and requests sent to the connector a name or URI
// belongs to.

// list fans a listing out to every visible connector offering it and
// merges the answers in slug order, renaming names when rename is set.
func (a *aggregate) list(ctx context.Context, req *mcp.Message, field string, rename bool) (upstream.Stream, error) {
	conns := a.visible()
	parts := make([][]json.RawMessage, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			items, err := a.listOne(ctx, c.Slug, req.Method, field)
			if err != nil {
				a.proxy.log.Warn().Err(err).Str("connector", c.Slug).Str("method", req.Method).Msg("aggregate listing skipped a connector")
				return
			}
			parts[i] = items
		}()
	}
	wg.Wait()
	merged := []json.RawMessage{}
	for i, c := range conns {
		for _, item := range parts[i] {
			out, err := a.renameItem(c.Slug, item, rename, field)
			if err != nil {
				continue
			}
			merged = append(merged, out)
		}
	}
	res, err := json.Marshal(map[string]any{field: merged})
	if err != nil {
		return nil, err
	}
	return answer(upstream.NewQueue(0), req, res), nil
}

// listOne fetches every page of a listing from one connector.
func (a *aggregate) listOne(ctx context.Context, slug, method, field string) ([]json.RawMessage, error) {
	s, err := a.child(ctx, slug)
	if err != nil {
		return nil, err
	}
	var items []json.RawMessage
	cursor := ""
	for page := 0; page < maxListPages; page++ {
		params := map[string]any{}
		if cursor != "" {
			params["cursor"] = cursor
		}
		req, err := mcp.NewRequest(json.RawMessage(`"gh-list-`+strconv.Itoa(page)+`"`), method, params)
		if err != nil {
			return nil, err
		}
		st, err := s.Call(ctx, req)
		if err != nil {
			return nil, err
		}
		m, err := lastMessage(ctx, st)
		if err != nil {
			return nil, err
		}
		if m.Error != nil {
			if m.Error.Code == mcp.CodeMethodNotFound {
				return nil, nil // the connector offers none
			}
			return nil, m.Error
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(m.Result, &raw); err != nil {
			return nil, err
		}
		var pageItems []json.RawMessage
		if err := json.Unmarshal(raw[field], &pageItems); err != nil && raw[field] != nil {
			return nil, err
		}
		next := ""
		_ = json.Unmarshal(raw["nextCursor"], &next)
		items = append(items, pageItems...)
		if next == "" {
			return items, nil
		}
		cursor = next
	}
	return items, nil
}

// renameItem namespaces a tool or prompt, or claims a resource URI or
// template for the connector listing it.
func (a *aggregate) renameItem(slug string, item json.RawMessage, rename bool, field string) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(item, &obj); err != nil {
		return nil, err
	}
	if rename {
		var name string
		if err := json.Unmarshal(obj["name"], &name); err != nil {
			return nil, err
		}
		obj["name"], _ = json.Marshal(slug + Separator + name)
		return json.Marshal(obj)
	}
	switch field {
	case "resources":
		return item, a.claim(a.resourceOf, "resource URI", slug, obj["uri"])
	case "resourceTemplates":
		return item, a.claim(a.templateOf, "resource template", slug, obj["uriTemplate"])
	}
	return item, nil
}

// errTaken drops an item whose URI another connector listed first.
var errTaken = errors.New("listed first by another connector")

// claim records slug as the owner of a URI or template (raw, a JSON
// string) unless another connector listed it first: then the item is
// dropped from slug's listing (errTaken), and the collision logged once,
// so no connector can take over what another one serves.
func (a *aggregate) claim(owners map[string]string, what, slug string, raw json.RawMessage) error {
	var key string
	if json.Unmarshal(raw, &key) != nil || key == "" {
		return nil
	}
	a.mu.Lock()
	owner, taken := owners[key]
	if !taken {
		owners[key] = slug
	}
	first := false
	if taken && owner != slug {
		seen := what + "\x00" + slug + "\x00" + key
		first = !a.collided[seen]
		a.collided[seen] = true
	}
	a.mu.Unlock()
	if !taken || owner == slug {
		return nil
	}
	if first {
		a.proxy.log.Warn().Str("connector", slug).Str("owner", owner).Str("uri", key).
			Msg("aggregate listing dropped a " + what + " that another connector listed first")
	}
	return errTaken
}

// routeByName sends a tools/call or prompts/get to the connector its
// namespaced name names, with the plain name.
func (a *aggregate) routeByName(ctx context.Context, req *mcp.Message, f *upstream.Framing) (upstream.Stream, error) {
	var params map[string]json.RawMessage
	if err := json.Unmarshal(req.Params, &params); err != nil {
		return errorAnswer(upstream.NewQueue(0), req, mcp.NewError(mcp.CodeInvalidParams, "params must be an object")), nil
	}
	var name string
	_ = json.Unmarshal(params["name"], &name)
	slug, plain, ok := strings.Cut(name, Separator)
	if !ok || slug == "" || plain == "" {
		return errorAnswer(upstream.NewQueue(0), req, mcp.Errorf(mcp.CodeInvalidParams, "%q is not a namespaced name; the aggregate endpoint names them {connector}%s{name}", name, Separator)), nil
	}
	params["name"], _ = json.Marshal(plain)
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	return a.forward(ctx, slug, &mcp.Message{JSONRPC: "2.0", ID: req.ID, Method: req.Method, Params: raw}, f)
}

// routeByURI sends a resource request to the connector that listed the
// URI; an unlisted URI is refused rather than guessed.
func (a *aggregate) routeByURI(ctx context.Context, req *mcp.Message, f *upstream.Framing) (upstream.Stream, error) {
	uri := req.TargetName()
	if slug, ok := offload.ConnectorOf(uri); ok {
		// The gateway's own link names its connector (before any listing).
		return a.forward(ctx, slug, req, f)
	}
	a.mu.Lock()
	slug := a.resourceOf[uri]
	a.mu.Unlock()
	if slug == "" {
		return errorAnswer(upstream.NewQueue(0), req, mcp.Errorf(mcp.CodeInvalidParams, "resource %q is unknown here: list resources first (resources/list) so the gateway knows which connector serves it", uri)), nil
	}
	return a.forward(ctx, slug, req, f)
}

// routeCompletion routes completion/complete by its prompt or resource ref.
func (a *aggregate) routeCompletion(ctx context.Context, req *mcp.Message, f *upstream.Framing) (upstream.Stream, error) {
	var params map[string]json.RawMessage
	if err := json.Unmarshal(req.Params, &params); err != nil {
		return errorAnswer(upstream.NewQueue(0), req, mcp.NewError(mcp.CodeInvalidParams, "params must be an object")), nil
	}
	var ref map[string]json.RawMessage
	_ = json.Unmarshal(params["ref"], &ref)
	var name, uri string
	_ = json.Unmarshal(ref["name"], &name)
	_ = json.Unmarshal(ref["uri"], &uri)
	switch {
	case name != "":
		slug, plain, ok := strings.Cut(name, Separator)
		if !ok {
			return errorAnswer(upstream.NewQueue(0), req, mcp.Errorf(mcp.CodeInvalidParams, "%q is not a namespaced prompt name", name)), nil
		}
		ref["name"], _ = json.Marshal(plain)
		params["ref"], _ = json.Marshal(ref)
		raw, _ := json.Marshal(params)
		return a.forward(ctx, slug, &mcp.Message{JSONRPC: "2.0", ID: req.ID, Method: req.Method, Params: raw}, f)
	case uri != "":
		a.mu.Lock()
		slug := a.resourceOf[uri]
		a.mu.Unlock()
		if slug != "" {
			return a.forward(ctx, slug, req, f)
		}
	}
	return errorAnswer(upstream.NewQueue(0), req, mcp.NewError(mcp.CodeInvalidParams, "completion/complete needs a namespaced prompt name or a listed resource URI")), nil
}

// forward sends req to the child on slug and relays its stream, renaming
// server-to-client requests; f learns how the child's upstream framed
// its answer.
func (a *aggregate) forward(ctx context.Context, slug string, req *mcp.Message, f *upstream.Framing) (upstream.Stream, error) {
	if _, rpcErr := a.proxy.Resolve(a.proxy.refresh(a.principal), slug); rpcErr != nil {
		return nil, rpcErr
	}
	s, err := a.child(ctx, slug)
	if err != nil {
		return nil, err
	}
	st, err := s.Relay(ctx, req, f)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.inflight[req.IDKey()] = slug
	a.mu.Unlock()
	return &renamed{Stream: st, a: a, slug: slug, id: req.IDKey()}, nil
}

// renamed rewrites a child stream for the aggregate's client.
type renamed struct {
	upstream.Stream
	a    *aggregate
	slug string
	id   string
}

func (r *renamed) Next(ctx context.Context) (*mcp.Message, error) {
	m, err := r.Stream.Next(ctx)
	if err != nil {
		return nil, err
	}
	return r.a.fromChild(r.slug, m), nil
}

func (r *renamed) Close() error {
	r.a.mu.Lock()
	delete(r.a.inflight, r.id)
	r.a.mu.Unlock()
	return r.Stream.Close()
}
