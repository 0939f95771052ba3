package auth

import (
	"sync"
	"time"
)

// Token lookups are cached: each API-token request would otherwise read
// and decode the token and its user from the store (measured: ~12 % of a
// proxied call's CPU). A cached lookup is used only while the directory's
// generation — which changes after every write to users or tokens — is
// the one read before the lookup, so a revoked token, a disabled or
// deleted user is refused on the very next request; expiry is checked on
// every use, and an entry lives at most tokenCacheTTL. Roles are not
// cached (the directory keeps them in memory).

// Generational is a Directory that says when its users or tokens changed
// (store.Directory). Without it, lookups are not cached.
type Generational interface {
	Generation() uint64
}

const (
	tokenCacheTTL     = time.Minute
	tokenCacheEntries = 10000
)

// tokenCache maps a token digest to the lookup's outcome that let it in.
type tokenCache struct {
	mu      sync.Mutex
	entries map[string]cachedToken
}

type cachedToken struct {
	gen     uint64
	until   time.Time  // cached until (at most tokenCacheTTL)
	expires *time.Time // the token's own expiry
	user    string
	tokenID string
}

func (c *tokenCache) get(digest string, gen uint64, now time.Time) (cachedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[digest]
	if !ok {
		return cachedToken{}, false
	}
	if e.gen != gen || !now.Before(e.until) || (e.expires != nil && !now.Before(*e.expires)) {
		delete(c.entries, digest)
		return cachedToken{}, false
	}
	return e, true
}

func (c *tokenCache) put(digest string, e cachedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= tokenCacheEntries {
		c.entries = make(map[string]cachedToken)
	}
	c.entries[digest] = e
}
