package rules

import (
	"fmt"
	"strings"
	"sync"
)

// Rules are gated by keywords: an expression runs only when the text
// holds one of its keywords (ASCII case folded), which keeps some sixty
// expressions cheap on clean text. One pass of a dense Aho-Corasick
// automaton finds every keyword a text holds.
//
// The automaton is hand-written rather than a library's: it folds ASCII
// case in its byte-class table, so no lowercased copy of the text is made,
// and each step is one table load, which matters most inside WebAssembly
// (the trie library used before walked ~20 ns per byte natively and made a
// lowercased copy per rule set: ~4 copies and walks per text). Its
// correctness is checked against strings.Contains on every keyword
// (TestKeywordMatcherFindsWhatContainsFinds).

// keywordMatcher finds the gating keywords of the rule sets in a text.
// It is immutable once built.
type keywordMatcher struct {
	ids   map[string]int32    // keyword → id
	lists map[gateKey][]int32 // keyword list (by its backing array) → ids
	// secretIDs are the keyword ids of secretRules[i], looked up by index
	// (a secret scan checks all forty).
	secretIDs [][]int32
	class     [256]uint8 // byte → class; A-Z share a-z's classes
	ncls      int
	// rowInv is ncls's inverse modulo 2^32 (ncls is kept odd for it): a
	// state's row times rowInv is the state, without a division.
	rowInv uint32
	maxLen int // the longest keyword's length
	// next[t+class] is the transition from the state at row t (state ×
	// ncls) to the next state's row, stored ^row when keywords end there.
	next []int32
	// outs[outAt[s]:outAt[s+1]] are the keyword ids that end at state s
	// (its own and its dictionary suffixes').
	outAt []int32
	outs  []int32
	// secretAt[s] says a secret rule's keyword ends at state s.
	secretAt []bool
}

// gateKey names one keyword list by its backing array, so the ids of a
// rule's list are found without hashing its words.
type gateKey struct {
	first *string
	n     int
}

func keyOf(words []string) gateKey { return gateKey{&words[0], len(words)} }

// newKeywordMatcher indexes every keyword of lists.
func newKeywordMatcher(lists ...[]string) *keywordMatcher {
	m := &keywordMatcher{ids: map[string]int32{}, lists: map[gateKey][]int32{}}
	var words []string
	for _, list := range lists {
		for _, w := range list {
			w = lower(w)
			if _, ok := m.ids[w]; ok || w == "" {
				continue
			}
			m.ids[w] = int32(len(words))
			words = append(words, w)
		}
	}
	if len(words) > maxKeywords {
		panic(fmt.Sprintf("rules: %d gating keywords, more than maxKeywords (%d)", len(words), maxKeywords))
	}
	for _, list := range lists {
		if len(list) == 0 {
			continue
		}
		ids := make([]int32, 0, len(list))
		for _, w := range list {
			if id, ok := m.ids[lower(w)]; ok {
				ids = append(ids, id)
			}
		}
		m.lists[keyOf(list)] = ids
	}
	// Byte classes: one per distinct byte of the keywords, 0 for the rest.
	for _, w := range words {
		m.maxLen = max(m.maxLen, len(w))
		for i := 0; i < len(w); i++ {
			if m.class[w[i]] == 0 {
				m.ncls++
				m.class[w[i]] = uint8(m.ncls)
			}
		}
	}
	m.ncls++
	if m.ncls%2 == 0 {
		m.ncls++ // an unused class, so that ncls has an inverse
	}
	m.rowInv = uint32(m.ncls)
	for range 5 { // Newton's iteration doubles the correct low bits
		m.rowInv *= 2 - uint32(m.ncls)*m.rowInv
	}
	for c := 'A'; c <= 'Z'; c++ {
		m.class[c] = m.class[c+'a'-'A']
	}
	// Trie.
	type node struct {
		child map[uint8]int32
		out   []int32
	}
	nodes := []node{{child: map[uint8]int32{}}}
	for id, w := range words {
		s := int32(0)
		for i := 0; i < len(w); i++ {
			c := m.class[w[i]]
			n, ok := nodes[s].child[c]
			if !ok {
				n = int32(len(nodes))
				nodes = append(nodes, node{child: map[uint8]int32{}})
				nodes[s].child[c] = n
			}
			s = n
		}
		nodes[s].out = append(nodes[s].out, int32(id))
	}
	// Breadth-first: failure links, full transitions, inherited outputs.
	m.next = make([]int32, len(nodes)*m.ncls)
	fail := make([]int32, len(nodes))
	queue := []int32{}
	for c := 0; c < m.ncls; c++ {
		if n, ok := nodes[0].child[uint8(c)]; ok {
			m.next[c] = n
			queue = append(queue, n)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		nodes[s].out = append(nodes[s].out, nodes[fail[s]].out...)
		for c := 0; c < m.ncls; c++ {
			if n, ok := nodes[s].child[uint8(c)]; ok {
				fail[n] = m.next[int(fail[s])*m.ncls+c]
				m.next[int(s)*m.ncls+c] = n
				queue = append(queue, n)
			} else {
				m.next[int(s)*m.ncls+c] = m.next[int(fail[s])*m.ncls+c]
			}
		}
	}
	m.outAt = make([]int32, len(nodes)+1)
	for s := range nodes {
		m.outAt[s] = int32(len(m.outs))
		m.outs = append(m.outs, nodes[s].out...)
	}
	m.outAt[len(nodes)] = int32(len(m.outs))
	for i, s := range m.next {
		row := s * int32(m.ncls)
		if m.outAt[s] < m.outAt[s+1] {
			row = ^row
		}
		m.next[i] = row
	}
	return m
}

// maxKeywords bounds the distinct gating keywords (287 today): their
// findings are a bitset inline in keywordsFound, so a scan allocates
// nothing (a []bool per scanned string was two allocations a call, and
// an allocation is what a busy gateway pays most for). A keyword set
// that outgrows it panics in every test; raise it.
const maxKeywords = 512

// keywordSet holds keyword ids.
type keywordSet [maxKeywords / 64]uint64

func (s *keywordSet) has(id int32) bool { return s[id>>6]&(1<<(id&63)) != 0 }

// keywordsFound are the keywords one text holds.
type keywordsFound struct {
	m     *keywordMatcher
	text  string
	found keywordSet // by keyword id
	n     int        // keyword ends seen (0: the text holds no keyword)
	// secret says the text holds a secret rule's keyword (set when the
	// matcher knows them: gateKeywords).
	secret bool
}

// scan walks text once (ASCII case folded). A long text is walked as
// four quarters at once, so that four chains of dependent table loads
// overlap (each step waits for the previous one's load; one chain runs
// at ~2 ns a byte, four at ~0.55): every quarter after the first starts
// maxLen-1 bytes early, so a keyword across a boundary is still found
// whole by the quarter it ends in, and the quarters' findings are one
// set.
func (m *keywordMatcher) scan(text string) keywordsFound {
	f := keywordsFound{m: m, text: text}
	if len(text) < 1024 {
		m.walk(&f, text, 0)
		return f
	}
	q, back := len(text)/4, m.maxLen-1
	a, b, c, d := text[:q], text[q-back:2*q], text[2*q-back:3*q], text[3*q-back:]
	var ra, rb, rc, rd int32
	for i := 0; ; i++ {
		i, ra, rb, rc, rd = walk4(m.next, m.class[:], a, b, c, d, i, ra, rb, rc, rd)
		if i == len(a) {
			break
		}
		// a keyword ends in one of the quarters
		ra, rb, rc, rd = m.ended(&f, ra), m.ended(&f, rb), m.ended(&f, rc), m.ended(&f, rd)
	}
	m.walk(&f, b[len(a):], rb)
	m.walk(&f, c[len(a):], rc)
	m.walk(&f, d[len(a):], rd)
	return f
}

// walk4 steps the four quarters' rows from a[i], b[i], c[i] and d[i] (b,
// c and d at least as long as a) until a keyword ends in one of them (it
// returns that step's i and rows) or a ends (i is len(a)). It calls
// nothing, so that its loop keeps every row and text in a register. Each
// chain's step is an add and a load: the index is not masked (its bounds
// check is a predicted branch, off the chain; a mask was one more cycle
// of latency a byte) and class is a slice, so no nil check is made.
func walk4(next []int32, class []uint8, a, b, c, d string, i int, ra, rb, rc, rd int32) (int, int32, int32, int32, int32) {
	class = class[:256]
	b, c, d = b[:len(a)], c[:len(a)], d[:len(a)]
	// Eight bytes of each quarter are loaded at once: the loads of the
	// table are then the only ones (a step was three loads before).
	for ; i < len(a); i++ {
		ra = next[uint32(ra)+uint32(class[a[i]])]
		rb = next[uint32(rb)+uint32(class[b[i]])]
		rc = next[uint32(rc)+uint32(class[c[i]])]
		rd = next[uint32(rd)+uint32(class[d[i]])]
		if ra|rb|rc|rd < 0 {
			return i, ra, rb, rc, rd
		}
	}
	return i, ra, rb, rc, rd
}

// load64 is s[i:i+8] as a little-endian word (one load, once compiled).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// walk runs the automaton over text from the state at row.
func (m *keywordMatcher) walk(f *keywordsFound, text string, row int32) {
	next, class := m.next, &m.class
	for i := 0; i < len(text); i++ {
		row = next[row+int32(class[text[i]])]
		if row < 0 {
			row = ^row
			m.mark(f, row)
		}
	}
}

// ended is row with its "keywords end here" flag cleared, marking them
// when it was set.
func (m *keywordMatcher) ended(f *keywordsFound, row int32) int32 {
	if row < 0 {
		row = ^row
		m.mark(f, row)
	}
	return row
}

// mark records the keywords ending at the state of row.
func (m *keywordMatcher) mark(f *keywordsFound, row int32) {
	s := int32(uint32(row) * m.rowInv) // row / ncls: rows are multiples of ncls
	for _, id := range m.outs[m.outAt[s]:m.outAt[s+1]] {
		f.found[id>>6] |= 1 << (id & 63)
	}
	if m.secretAt != nil && m.secretAt[s] {
		f.secret = true
	}
	f.n++
}

// any reports whether the text holds one of words (an empty list gates
// nothing). A list the matcher was not built with is looked for
// directly, so a list left out of the index is slower, never wrong.
func (f keywordsFound) any(words []string) bool {
	if len(words) == 0 {
		return true
	}
	ids, ok := f.m.lists[keyOf(words)]
	if !ok {
		lt := lower(f.text)
		for _, w := range words {
			if strings.Contains(lt, w) {
				return true
			}
		}
		return false
	}
	return f.anyID(ids)
}

// has reports whether the text holds the keyword w (one of the indexed
// ones; any other is looked for directly).
func (f keywordsFound) has(w string) bool {
	if id, ok := f.m.ids[w]; ok {
		return f.n > 0 && f.found.has(id)
	}
	return strings.Contains(lower(f.text), w)
}

// anyID reports whether the text holds one of the keywords ids.
func (f keywordsFound) anyID(ids []int32) bool {
	if f.n == 0 {
		return false // no keyword at all: most short strings
	}
	for _, id := range ids {
		if f.found.has(id) {
			return true
		}
	}
	return false
}

// gateKeywords indexes the keywords of every rule set, once they are all
// set (patterns.go's init gates its expressions).
var gateKeywords = sync.OnceValue(func() *keywordMatcher {
	m := newKeywordMatcher(allGateKeywords()...)
	secret := make([]bool, len(m.ids))
	for _, r := range secretRules {
		ids := m.lists[keyOf(r.keywords)]
		m.secretIDs = append(m.secretIDs, ids)
		for _, id := range ids {
			secret[id] = true
		}
	}
	m.secretAt = make([]bool, len(m.outAt)-1)
	for s := range m.secretAt {
		for _, id := range m.outs[m.outAt[s]:m.outAt[s+1]] {
			m.secretAt[s] = m.secretAt[s] || secret[id]
		}
	}
	return m
})

func allGateKeywords() [][]string {
	lists := [][]string{kwNetworkSend, kwOutputWrite, kwOutputExec, kwSensitiveFile}
	for _, r := range secretRules {
		lists = append(lists, r.keywords)
	}
	for _, ps := range [][]pattern{hiddenInstructionPatterns, toolDescriptionPatterns, outputInjectionPatterns} {
		for _, p := range ps {
			lists = append(lists, p.kw)
		}
	}
	return lists
}
