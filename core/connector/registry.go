package connector

import (
	"sort"
	"sync"
)

// Registry is the in-memory snapshot of connectors the request path reads.
// The admin API updates it after every durable write, so lookups never
// touch the store.
type Registry struct {
	mu     sync.RWMutex
	bySlug map[string]*Connector
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
	r.mu.Unlock()
}

// Remove deletes a connector.
func (r *Registry) Remove(slug string) {
	r.mu.Lock()
	delete(r.bySlug, slug)
	r.mu.Unlock()
}

// List returns every connector, sorted by slug. Callers must not modify them.
func (r *Registry) List() []*Connector {
	r.mu.RLock()
	out := make([]*Connector, 0, len(r.bySlug))
	for _, c := range r.bySlug {
		out = append(out, c)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Slug < out[j].Slug })
	return out
}
