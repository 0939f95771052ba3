package rules

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// The automaton finds exactly the keywords strings.Contains finds in the
// lowercased text, on random text spliced from keyword pieces in mixed
// case (so that overlaps, shared prefixes and near misses are common).
func TestKeywordMatcherFindsWhatContainsFinds(t *testing.T) {
	m := gateKeywords()
	var words []string
	for w := range m.ids {
		words = append(words, w)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 4000; n++ {
		var sb strings.Builder
		pieces := r.IntN(40)
		if n%8 == 0 {
			pieces = 300 + r.IntN(400) // long texts, walked in two halves
		}
		for i := pieces; i > 0; i-- {
			w := words[r.IntN(len(words))]
			if r.IntN(3) == 0 { // a piece of a keyword
				a := r.IntN(len(w))
				w = w[a : a+1+r.IntN(len(w)-a)]
			}
			for _, c := range []byte(w) {
				if r.IntN(2) == 0 && 'a' <= c && c <= 'z' {
					c -= 'a' - 'A'
				}
				sb.WriteByte(c)
			}
			if r.IntN(4) == 0 {
				sb.WriteString([]string{" ", "\n", "é", ".", "_", "\x00", "\xff"}[r.IntN(7)])
			}
		}
		text := sb.String()
		f := m.scan(text)
		lt := lower(text)
		for w, id := range m.ids {
			if got, want := f.found.has(id), strings.Contains(lt, w); got != want {
				t.Fatalf("keyword %q in %q: found %v, strings.Contains %v", w, text, got, want)
			}
		}
	}
}

// A keyword across a boundary of the quarters a long text is walked in
// is found, at every offset, on every boundary.
func TestKeywordMatcherFindsKeywordsAcrossQuarters(t *testing.T) {
	m := gateKeywords()
	for w, id := range m.ids {
		for _, size := range []int{4096, 4097, 4099} {
			q := size / 4
			for _, boundary := range []int{q, 2 * q, 3 * q} {
				for off := 0; off <= len(w); off++ {
					start := boundary - off
					text := strings.Repeat("~", start) + strings.ToUpper(w) + strings.Repeat("~", size-start-len(w))
					if f := m.scan(text); !f.found.has(id) {
						t.Fatalf("keyword %q at %d of %d (across the quarter boundary at %d) not found", w, start, len(text), boundary)
					}
				}
			}
		}
	}
}

// Every rule's keyword list is indexed, and a list that is not still
// gates correctly (looked for directly).
func TestKeywordListsAreIndexed(t *testing.T) {
	m := gateKeywords()
	for _, list := range allGateKeywords() {
		if len(list) == 0 {
			continue
		}
		if _, ok := m.lists[keyOf(list)]; !ok {
			t.Errorf("list %q not indexed", list)
		}
	}
	f := m.scan("An UNLISTED word")
	if !f.any([]string{"unlisted"}) || f.any([]string{"absent"}) {
		t.Error("an unindexed list is not looked for directly")
	}
}

// isASCII finds a byte beyond ASCII wherever it is (in an 8-byte step or
// the tail).
func TestIsASCIIFindsAnyHighByte(t *testing.T) {
	for n := 0; n <= 40; n++ {
		s := []byte(strings.Repeat("a", n))
		if !isASCII(string(s)) {
			t.Fatalf("%d ASCII bytes judged not ASCII", n)
		}
		for i := 0; i < n; i++ {
			s[i] = 0x80
			if isASCII(string(s)) {
				t.Fatalf("a high byte at %d of %d missed", i, n)
			}
			s[i] = 'a'
		}
	}
}

// BenchmarkKeywordScan: one keyword scan of English prose and of text
// with no keyword byte at all, by size.
func BenchmarkKeywordScan(b *testing.B) {
	m := gateKeywords()
	para := "The quarterly report lists revenue by region, the open support tickets and the roadmap items for the next release. "
	for _, tc := range []struct{ name, unit string }{{"prose", para}, {"mmm", "m"}} {
		for _, size := range []int{100, 1 << 10, 64 << 10} {
			text := strings.Repeat(tc.unit, size/len(tc.unit)+1)[:size]
			b.Run(tc.name+"/"+strconv.Itoa(size)+"B", func(b *testing.B) {
				b.SetBytes(int64(size))
				for b.Loop() {
					m.scan(text)
				}
			})
		}
	}
}

// A state's row times rowInv is the state, whether the keywords' byte
// classes count odd or even (then padded to odd).
func TestKeywordMatcherRowInverse(t *testing.T) {
	matchers := map[string]*keywordMatcher{"gate keywords": gateKeywords()}
	for _, words := range [][]string{{"ab"}, {"abc"}, {"abcd", "bcde", "x"}, kwNetworkSend} {
		matchers[fmt.Sprintf("%q", words)] = newKeywordMatcher(words)
	}
	for name, m := range matchers {
		if m.ncls%2 == 0 {
			t.Fatalf("%s: %d classes, not odd", name, m.ncls)
		}
		for s := 0; s < len(m.outAt)-1; s++ {
			if got := int(uint32(s*m.ncls) * m.rowInv); got != s {
				t.Fatalf("%s: row %d gives state %d, want %d", name, s*m.ncls, got, s)
			}
		}
	}
}
