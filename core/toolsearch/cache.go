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
	// building holds the builds in progress: a listing many callers
	// search at once after a change is indexed once, the others wait.
	building map[[sha256.Size]byte]*build

	// parse reads one item (ParseTool); waiting is told when a caller
	// waits for another's build. Both are seams for the tests.
	parse   func(json.RawMessage) (Tool, error)
	waiting func()
}

type cacheEntry struct {
	key [sha256.Size]byte
	ix  *Index
}

// build is an index being built; done closes when ix is set.
type build struct {
	done chan struct{}
	ix   *Index
}

// NewCache returns a cache of up to size indexes (at least one).
func NewCache(size int) *Cache {
	return &Cache{size: max(size, 1), building: map[[sha256.Size]byte]*build{}, parse: ParseTool, waiting: func() {}}
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
	if b, ok := c.building[key]; ok {
		c.mu.Unlock()
		c.waiting()
		<-b.done
		return b.ix
	}
	b := &build{done: make(chan struct{})}
	c.building[key] = b
	c.mu.Unlock()

	tools := make([]Tool, 0, len(items))
	for _, item := range items {
		if t, err := c.parse(item); err == nil {
			tools = append(tools, t)
		}
	}
	b.ix = Build(tools) // outside the lock: a build of 10 000 tools takes a while

	c.mu.Lock()
	delete(c.building, key)
	if len(c.entries) >= c.size {
		c.entries = slices.Delete(c.entries, 0, 1)
	}
	c.entries = append(c.entries, cacheEntry{key: key, ix: b.ix})
	c.mu.Unlock()
	close(b.done)
	return b.ix
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
