package connector

import (
	"sort"
	"strings"
	"sync"
)

// Registry is the in-memory snapshot of connectors the request path reads.
// The admin API updates it after every durable write, so lookups and
// searches never touch the store.
type Registry struct {
	mu     sync.RWMutex
	bySlug map[string]*Connector
	// sorted is the slug-ordered search index, rebuilt on the first read
	// after a change (nil until then).
	sorted []indexed
}

// indexed is a connector with its lowercased searchable text.
type indexed struct {
	c    *Connector
	text string // name, description and slug, lowercased, NUL-separated
}

// NewRegistry returns a registry holding list.
func NewRegistry(list []*Connector) *Registry {
	r := &Registry{bySlug: make(map[string]*Connector, len(list))}
	for _, c := range list {
		r.bySlug[c.Slug] = c
	}
	return r
}

// Lookup returns the connector with slug. Callers must not modify it.
func (r *Registry) Lookup(slug string) (*Connector, bool) {
	r.mu.RLock()
	c, ok := r.bySlug[slug]
	r.mu.RUnlock()
	return c, ok
}

// Put adds or replaces a connector.
func (r *Registry) Put(c *Connector) {
	r.mu.Lock()
	r.bySlug[c.Slug] = c
	r.sorted = nil
	r.mu.Unlock()
}

// Remove deletes a connector.
func (r *Registry) Remove(slug string) {
	r.mu.Lock()
	delete(r.bySlug, slug)
	r.sorted = nil
	r.mu.Unlock()
}

// index returns the current search index, building it if needed.
func (r *Registry) index() []indexed {
	r.mu.RLock()
	idx := r.sorted
	r.mu.RUnlock()
	if idx != nil {
		return idx
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sorted != nil {
		return r.sorted
	}
	idx = make([]indexed, 0, len(r.bySlug))
	for _, c := range r.bySlug {
		idx = append(idx, indexed{c: c, text: strings.ToLower(c.Name + "\x00" + c.Description + "\x00" + c.Slug)})
	}
	sort.Slice(idx, func(i, j int) bool { return idx[i].c.Slug < idx[j].c.Slug })
	r.sorted = idx
	return idx
}

// List returns every connector, sorted by slug. Callers must not modify them.
func (r *Registry) List() []*Connector {
	idx := r.index()
	out := make([]*Connector, len(idx))
	for i, e := range idx {
		out[i] = e.c
	}
	return out
}

// Filter selects connectors in a search. Zero fields match everything.
type Filter struct {
	// Query matches, case-insensitively, a substring of the name, the
	// description or the slug.
	Query     string
	Status    Status
	Transport Transport
	Hosting   string
}

// Search returns the connectors matching f for which visible is true,
// sorted by slug. Callers must not modify them.
func (r *Registry) Search(f Filter, visible func(*Connector) bool) []*Connector {
	q := strings.ToLower(strings.TrimSpace(f.Query))
	var out []*Connector
	for _, e := range r.index() {
		c := e.c
		if f.Status != "" && c.Status != f.Status || f.Transport != "" && c.Transport != f.Transport ||
			f.Hosting != "" && c.Hosting != f.Hosting {
			continue
		}
		if q != "" && !strings.Contains(e.text, q) {
			continue
		}
		if visible != nil && !visible(c) {
			continue
		}
		out = append(out, c)
	}
	return out
}
