package era

import (
	"context"
	"sync"
)

// Upstream is what a server/discover probe learnt of an upstream.
type Upstream struct {
	// Era is the upstream's era; nil when the probe could not tell (the
	// upstream was unreachable: ask again next time).
	Era Adapter
	// Versions are the revisions a modern upstream lists.
	Versions []string
}

// DualEra reports whether a modern upstream also lists a legacy revision.
func (u Upstream) DualEra() bool {
	for _, v := range u.Versions {
		if (Legacy{}).Speaks(v) {
			return true
		}
	}
	return false
}

// Probes caches each connector's upstream era: one probe per connector
// until Forget (its definition changed).
type Probes struct {
	mu    sync.Mutex
	known map[string]Upstream
}

// NewProbes returns an empty cache.
func NewProbes() *Probes { return &Probes{known: map[string]Upstream{}} }

// Of returns slug's upstream era, calling probe when it is not known yet;
// fresh says probe ran and told.
func (p *Probes) Of(ctx context.Context, slug string, probe func(context.Context) Upstream) (u Upstream, fresh bool) {
	p.mu.Lock()
	u, ok := p.known[slug]
	p.mu.Unlock()
	if ok {
		return u, false
	}
	u = probe(ctx)
	if u.Era == nil {
		return u, false
	}
	p.mu.Lock()
	p.known[slug] = u
	p.mu.Unlock()
	return u, true
}

// Forget drops what is known of slug's upstream.
func (p *Probes) Forget(slug string) {
	p.mu.Lock()
	delete(p.known, slug)
	p.mu.Unlock()
}
