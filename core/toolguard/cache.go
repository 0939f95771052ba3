package toolguard

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"strings"
	"sync"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// Cache bounds: entries, and bytes of keys held (a key holds the content
// it stands for, so a hit is exact, never a hash match).
const (
	cacheEntries = 4096
	cacheBytes   = 16 << 20
)

// verdictCache remembers built-in guards' verdicts by (guard, module
// hash, hook, content): content is every field of the envelope a
// guard's rules read, sensitivity included (contentKey). An entry keeps
// the whole content and a lookup compares it, so a verdict is only ever
// returned for the same content — the hash only finds the entry: each
// content is hashed once per call (maphash, seeded per cache), not once
// per map operation (a 64 KiB answer's lookup, insertion and eviction
// each hashed its whole key before, ~6 µs apiece). Only deterministic
// guards are cached (built-in ones, with a module hash), only when the
// native rules see what the guest would (nativeSafe), and never an
// error; a clean native allow only from cleanCacheMin on (below it the
// rules judge again, which is cheaper). Oldest entries go first when
// either bound is passed.
//
// An insertion allocates one entry and nothing else: contents of one hash
// are chained through their entries, the insertion order is a ring of
// fixed size and an entry holds its first verdicts inline (a slice per
// hash, a growing order slice and a verdicts slice were ~8 allocations a
// call, which cost more in a busy gateway than their bytes suggest).
type verdictCache struct {
	seed  maphash.Seed
	mu    sync.Mutex
	m     map[uint64]*cacheEntry // by the content's hash: the chain's first
	ring  *[cacheEntries]*cacheEntry
	first int // ring[first] is the oldest entry
	n     int // entries in the ring
	bytes int
}

// cacheEntry holds the verdicts of one content: one per (guard, module,
// hook), so both call phases of an answer share one entry and one lookup.
type cacheEntry struct {
	content  content
	sum      uint64
	next     *cacheEntry // the next entry of the same sum
	verdicts []guardVerdict
	few      [2]guardVerdict // verdicts' first backing array
}

type guardVerdict struct {
	guard, module, hook string
	c                   cached
}

// maxVerdictsPerEntry bounds one content's verdicts (a chain has a few
// guards per hook).
const maxVerdictsPerEntry = 16

// content is contentKey's encoding of an envelope: the output's text
// apart from the rest, so the key of a large answer refers to its text
// instead of copying it (its length is in head).
type content struct {
	head, text string
}

func (c content) size() int { return len(c.head) + len(c.text) }

// contentID is a content with its hash (verdictCache.id).
type contentID struct {
	content content
	sum     uint64
}

type cacheKey struct {
	guard, module, hook string
	id                  contentID
}

// cached is a verdict, or clean: the native rules found nothing (the
// guest did not run).
type cached struct {
	clean bool
	v     guard.Verdict
}

func newVerdictCache() *verdictCache {
	return &verdictCache{seed: maphash.MakeSeed(), m: map[uint64]*cacheEntry{}, ring: new([cacheEntries]*cacheEntry)}
}

// id hashes content for get and put.
func (c *verdictCache) id(k content) contentID {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteString(k.head)
	h.WriteString(k.text)
	return contentID{content: k, sum: h.Sum64()}
}

// entry is content's entry (c is locked).
func (c *verdictCache) entry(id contentID) *cacheEntry {
	for e := c.m[id.sum]; e != nil; e = e.next {
		if e.content == id.content {
			return e
		}
	}
	return nil
}

func (c *verdictCache) get(k cacheKey) (cached, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entry(k.id); e != nil {
		for _, v := range e.verdicts {
			if v.guard == k.guard && v.module == k.module && v.hook == k.hook {
				return v.c, true
			}
		}
	}
	return cached{}, false
}

func (c *verdictCache) put(k cacheKey, v cached) {
	if k.id.content.size() > cacheBytes/16 {
		return // one large answer must not flush the cache
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(k.id)
	if e == nil {
		for c.n > 0 && (c.n >= cacheEntries || c.bytes+k.id.content.size() > cacheBytes) {
			c.evictOldest()
		}
		e = &cacheEntry{content: k.id.content, sum: k.id.sum, next: c.m[k.id.sum]}
		e.verdicts = e.few[:0]
		c.m[e.sum] = e
		c.ring[(c.first+c.n)%cacheEntries] = e
		c.n++
		c.bytes += e.content.size()
	}
	for _, gv := range e.verdicts {
		if gv.guard == k.guard && gv.module == k.module && gv.hook == k.hook {
			return
		}
	}
	if len(e.verdicts) < maxVerdictsPerEntry {
		e.verdicts = append(e.verdicts, guardVerdict{guard: k.guard, module: k.module, hook: k.hook, c: v})
	}
}

// evictOldest drops the oldest entry (c is locked).
func (c *verdictCache) evictOldest() {
	old := c.ring[c.first]
	c.ring[c.first] = nil
	c.first = (c.first + 1) % cacheEntries
	c.n--
	c.bytes -= old.content.size()
	head := c.m[old.sum]
	if head == old {
		head = old.next
	} else {
		for p := head; p != nil; p = p.next {
			if p.next == old {
				p.next = old.next
				break
			}
		}
	}
	if head == nil {
		delete(c.m, old.sum)
	} else {
		c.m[old.sum] = head
	}
}

// contentKey encodes every field of in a built-in guard's rules read,
// each length-prefixed so that distinct inputs never encode alike. Left
// out: V and Hook (the hook is in the key), RequestID and Output.Content,
// which the rules do not read (TestContentKeyCoversTheEnvelope checks
// every other field changes the key).
func contentKey(in *guard.Input) content {
	n := 64 + len(in.Arguments)
	if in.Output != nil {
		n += 24 * len(in.Output.Parts)
	}
	if in.Tool != nil {
		n += len(in.Tool.Name) + len(in.Tool.Description)
	}
	var b strings.Builder // its String() does not copy
	b.Grow(n)
	var scratch [binary.MaxVarintLen64]byte
	num := func(v uint64) { b.Write(binary.AppendUvarint(scratch[:0], v)) }
	str := func(s string) {
		num(uint64(len(s)))
		b.WriteString(s)
	}
	flag := func(v bool) {
		if v {
			b.WriteByte(1)
		} else {
			b.WriteByte(0)
		}
	}
	str(in.Connector.ID)
	str(in.Connector.Name)
	flag(in.Connector.Sensitive)
	str(in.Sensitivity.Level)
	num(math.Float64bits(in.Sensitivity.Threshold))
	str(in.Method)
	flag(in.Truncated)
	str(string(in.Arguments))
	flag(in.Tool != nil)
	if t := in.Tool; t != nil {
		str(t.Name)
		str(t.Description)
	}
	flag(in.Output != nil)
	var text string
	if o := in.Output; o != nil {
		num(uint64(len(o.Text))) // the text itself is content.text
		text = o.Text
		flag(o.IsError)
		num(uint64(len(o.Parts)))
		for _, p := range o.Parts {
			str(p.Path)
			num(uint64(p.Span[0]))
			num(uint64(p.Span[1]))
			flag(p.Key)
		}
	}
	num(uint64(len(in.Tools)))
	for _, t := range in.Tools {
		str(t.Name)
		str(t.Title)
		str(t.Description)
		str(string(t.InputSchema))
		str(string(t.OutputSchema))
		str(string(t.Annotations))
		str(t.PinnedHash)
	}
	num(uint64(len(in.Known)))
	for _, k := range in.Known {
		str(k.Connector)
		str(k.Name)
	}
	return content{head: b.String(), text: text}
}

// cleanCacheMin is the input size (inputSize) from which a clean native
// allow is worth caching. Below it the chain runs the native rules first
// and caches nothing when they are clean: on content seen once (most tool
// answers carry ids, times or fresh data) building the key, hashing it,
// inserting it and evicting the oldest entry cost more than the rules
// (1 KiB result: 11.0 → 7.4 µs a call, 44 → 40 allocations), and a hit
// would save only ~3 µs. From 16 KiB a hit saves most of a call (64 KiB:
// 36 against 90 µs) for ~9 µs on unique content, so clean allows are
// cached there. Verdicts a guest gave are cached at every size: a guest
// costs far more than any lookup.
const cleanCacheMin = 16 << 10

// inputSize is about the bytes of in the rules read (what contentKey
// encodes, without its framing): the measure for cleanCacheMin.
func inputSize(in *guard.Input) int {
	n := len(in.Arguments)
	if in.Tool != nil {
		n += len(in.Tool.Name) + len(in.Tool.Description)
	}
	if in.Output != nil {
		n += len(in.Output.Text)
	}
	for i := range in.Tools {
		t := &in.Tools[i]
		n += len(t.Name) + len(t.Title) + len(t.Description) + len(t.InputSchema) + len(t.OutputSchema) + len(t.Annotations)
	}
	return n
}
