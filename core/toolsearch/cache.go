package toolsearch

import (
	"crypto/sha256"
	"encoding/json"
	"slices"
	"strings"
	"sync"
)

// Cache keeps the indexes of the last few tool sets searched, keyed by a
// digest of the tool set itself: a search over a listing seen before
// reuses its index, and any change of the listing (a tool added, changed,
// held, or narrowed away by a policy change) is a new key, so the index
// always follows the listing. Callers who see the same tools share one
// index. Safe for concurrent use.
type Cache struct {
	size int

	mu      sync.Mutex
	entries []cacheEntry // most recently used last
}

type cacheEntry struct {
	key [sha256.Size]byte
	ix  *Index
}

// NewCache returns a cache of up to size indexes (at least one).
func NewCache(size int) *Cache {
	return &Cache{size: max(size, 1)}
}

// Index returns the index of tools, building it on a miss.
func (c *Cache) Index(tools []Tool) *Index {
	key := digest(tools)
	c.mu.Lock()
	for i, e := range c.entries {
		if e.key == key {
			c.entries = append(slices.Delete(c.entries, i, i+1), e)
			c.mu.Unlock()
			return e.ix
		}
	}
	c.mu.Unlock()
	ix := Build(tools) // outside the lock: a build of 10 000 tools takes a while
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.size {
		c.entries = slices.Delete(c.entries, 0, 1)
	}
	c.entries = append(c.entries, cacheEntry{key: key, ix: ix})
	return ix
}

// digest identifies a tool set whatever order it was listed in.
func digest(tools []Tool) [sha256.Size]byte {
	sorted := slices.Clone(tools)
	slices.SortStableFunc(sorted, func(a, b Tool) int { return strings.Compare(a.Name, b.Name) })
	h := sha256.New()
	for _, t := range sorted {
		// The definition holds name, description and schema; a length
		// prefix keeps two tools from reading as one.
		def := t.Definition
		if def == nil {
			def, _ = json.Marshal([]any{t.Name, t.Description, t.Params})
		}
		var n [8]byte
		for i, l := 0, uint64(len(def)); i < 8; i++ {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write(def)
	}
	var out [sha256.Size]byte
	copy(out[:], h.Sum(nil))
	return out
}
