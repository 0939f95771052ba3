package toolsearch

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"slices"
	"sync"
)

// Cache keeps the indexes of the last few listings searched, keyed by a
// digest of the listing itself: a search over a listing seen before
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

// Index returns the index of the tools/list items, parsing and building
// it on a miss (items that are no tool, such as one without a name, are
// left out). A hit costs a digest of the items, nothing more.
func (c *Cache) Index(items []json.RawMessage) *Index {
	key := digest(items)
	c.mu.Lock()
	for i, e := range c.entries {
		if e.key == key {
			c.entries = append(slices.Delete(c.entries, i, i+1), e)
			c.mu.Unlock()
			return e.ix
		}
	}
	c.mu.Unlock()
	tools := make([]Tool, 0, len(items))
	for _, item := range items {
		if t, err := ParseTool(item); err == nil {
			tools = append(tools, t)
		}
	}
	ix := Build(tools) // outside the lock: a build of 10 000 tools takes a while
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.size {
		c.entries = slices.Delete(c.entries, 0, 1)
	}
	c.entries = append(c.entries, cacheEntry{key: key, ix: ix})
	return ix
}

// digest identifies a listing: its items, in order (an endpoint lists in
// a stable order; Build sorts, so the order never changes an answer, at
// most costs a second index).
func digest(items []json.RawMessage) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	for _, item := range items {
		// A length prefix keeps two items from reading as one.
		binary.LittleEndian.PutUint64(n[:], uint64(len(item)))
		h.Write(n[:])
		h.Write(item)
	}
	var out [sha256.Size]byte
	copy(out[:], h.Sum(nil))
	return out
}
