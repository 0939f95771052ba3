package toolguard

import (
	"encoding/binary"
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
// guard's rules read, sensitivity included (contentKey). The whole
// content is the map key, so a verdict is only ever returned for the
// same content. Only deterministic guards are cached (built-in ones,
// with a module hash), only when the native rules see what the guest
// would (nativeSafe), and never an error. Oldest entries go first when
// either bound is passed.
type verdictCache struct {
	mu    sync.Mutex
	m     map[string]*cacheEntry // by content
	order []string               // contents in insertion order, oldest first
	bytes int
}

// cacheEntry holds the verdicts of one content: one per (guard, module,
// hook), so both call phases of an answer share one entry and one lookup.
type cacheEntry struct{ verdicts []guardVerdict }

type guardVerdict struct {
	guard, module, hook string
	c                   cached
}

// maxVerdictsPerEntry bounds one content's verdicts (a chain has a few
// guards per hook).
const maxVerdictsPerEntry = 16

type cacheKey struct {
	guard, module, hook, content string
}

// cached is a verdict, or clean: the native rules found nothing (the
// guest did not run).
type cached struct {
	clean bool
	v     guard.Verdict
}

func newVerdictCache() *verdictCache { return &verdictCache{m: map[string]*cacheEntry{}} }

func (c *verdictCache) get(k cacheKey) (cached, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.m[k.content]; e != nil {
		for _, v := range e.verdicts {
			if v.guard == k.guard && v.module == k.module && v.hook == k.hook {
				return v.c, true
			}
		}
	}
	return cached{}, false
}

func (c *verdictCache) put(k cacheKey, v cached) {
	if len(k.content) > cacheBytes/16 {
		return // one large answer must not flush the cache
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[k.content]
	if e == nil {
		for len(c.order) > 0 && (len(c.m) >= cacheEntries || c.bytes+len(k.content) > cacheBytes) {
			old := c.order[0]
			c.order[0] = ""
			c.order = c.order[1:]
			delete(c.m, old)
			c.bytes -= len(old)
		}
		e = &cacheEntry{}
		c.m[k.content] = e
		c.order = append(c.order, k.content)
		c.bytes += len(k.content)
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

// contentKey encodes every field of in a built-in guard's rules read,
// each length-prefixed so that distinct inputs never encode alike. Left
// out: V and Hook (the hook is in the key), RequestID and Output.Content,
// which the rules do not read (TestContentKeyCoversTheEnvelope checks
// every other field changes the key).
func contentKey(in *guard.Input) string {
	n := 64 + len(in.Arguments)
	if in.Output != nil {
		n += len(in.Output.Text) + 24*len(in.Output.Parts)
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
	if o := in.Output; o != nil {
		str(o.Text)
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
	return b.String()
}
