package rules

import (
	"strings"
	"sync"

	ahocorasick "github.com/BobuSumisu/aho-corasick"
)

// Rules are gated by keywords: an expression runs only when the
// lowercased text holds one of its keywords, which keeps some sixty
// expressions cheap on clean text. One Aho-Corasick pass
// (BobuSumisu/aho-corasick, the matcher gitleaks gates its rules with)
// finds every keyword a text holds, instead of a strings.Contains per
// keyword per rule — much of a guard's time inside WebAssembly, where
// strings.Index has no vector instructions.

// keywordMatcher finds the gating keywords of the rule sets in a text.
type keywordMatcher struct {
	trie *ahocorasick.Trie
	ids  map[string]int // keyword → pattern id
}

// newKeywordMatcher indexes every keyword of lists.
func newKeywordMatcher(lists ...[]string) *keywordMatcher {
	m := &keywordMatcher{ids: map[string]int{}}
	b := ahocorasick.NewTrieBuilder()
	for _, list := range lists {
		for _, w := range list {
			if _, ok := m.ids[w]; ok || w == "" {
				continue
			}
			m.ids[w] = len(m.ids)
			b.AddString(w)
		}
	}
	m.trie = b.Build()
	return m
}

// keywordsFound are the keywords one lowercased text holds.
type keywordsFound struct {
	m     *keywordMatcher
	text  string
	found []bool // by pattern id
}

// scan walks lt (lowercased) once.
func (m *keywordMatcher) scan(lt string) keywordsFound {
	f := keywordsFound{m: m, text: lt, found: make([]bool, len(m.ids))}
	m.trie.Walk([]byte(lt), func(_, _, pattern int64) bool {
		f.found[pattern] = true
		return true
	})
	return f
}

// any reports whether the text holds one of words (an empty list gates
// nothing). A keyword the matcher was not built with is looked for
// directly, so a list left out of the index is slower, never wrong.
func (f keywordsFound) any(words []string) bool {
	if len(words) == 0 {
		return true
	}
	for _, w := range words {
		if id, ok := f.m.ids[w]; ok {
			if f.found[id] {
				return true
			}
		} else if strings.Contains(f.text, w) {
			return true
		}
	}
	return false
}

// gateKeywords indexes the keywords of every rule set, once they are all
// set (patterns.go's init gates its expressions).
var gateKeywords = sync.OnceValue(func() *keywordMatcher { return newKeywordMatcher(allGateKeywords()...) })

func allGateKeywords() [][]string {
	lists := [][]string{kwNetworkSend, kwOutputWrite, kwOutputExec}
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
