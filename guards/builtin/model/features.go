// Package model is the built-in guards' learned detector: a hashed
// n-gram logistic regression with int8 weights, embedded in the guard
// (weights/, written by `make guard-train`). It has one job — turn a text
// into a score in [0,1] — and knows nothing about verdicts; the rules
// package decides what a score means.
//
// Features are binary (an n-gram is present or not) and the sum of the
// present weights is divided by √(number of distinct features), so a long
// text does not score higher for being long. The sum is taken in integers,
// so native code and the WebAssembly guest compute the same score.
package model

import (
	"slices"
	"strings"
	"unicode"
)

// Kind names a feature extractor; a weights file records the kind it was
// trained with, and scoring refuses a mismatch.
type Kind uint8

const (
	// KindWords is word unigrams and bigrams of lower-cased text, with the
	// docstring section words known to confound the shared tool corpus
	// (args, returns, raises, yields) removed. For tool definitions.
	KindWords Kind = 1
	// KindChars is character 1- to 4-grams of the raw text plus
	// whitespace-separated tokens. For command-line arguments, where
	// punctuation (; | ` $() carries the signal.
	KindChars Kind = 2
)

// confoundWords are dropped by KindWords: they separate the shared
// corpus's generator style from real servers (docs/guard-eval.md), not
// attacks from benign text.
var confoundWords = map[string]bool{"args": true, "arg": true, "returns": true, "return": true, "raises": true, "yields": true}

// Features returns the sorted distinct bucket indexes of text for kind
// in a table of 1<<bits buckets.
func Features(kind Kind, bits uint8, text string) []uint32 {
	out := make([]uint32, 0, 4*len(text)+8)
	eachFeature(kind, bits, text, func(h uint32) { out = append(out, h) })
	slices.Sort(out)
	return slices.Compact(out)
}

// eachFeature calls fn with the bucket of every feature occurrence of
// text (a bucket may repeat).
func eachFeature(kind Kind, bits uint8, text string, fn func(uint32)) {
	mask := uint32(1)<<bits - 1
	switch kind {
	case KindWords:
		prev := ""
		for _, w := range splitWords(text) {
			fn(hash(1, w, "") & mask)
			if prev != "" {
				fn(hash(2, prev, w) & mask)
			}
			prev = w
		}
	case KindChars:
		// Character n-grams of the text framed by \x02 … \x03: FNV-1a
		// over the n bytes, then the length mixed in, so the n-grams
		// starting at one byte share their prefix hash.
		framed := "\x02" + text + "\x03"
		const prime = 16777619
		for i := 0; i < len(framed); i++ {
			p := uint32(2166136261)
			for n := 1; n <= 4 && i+n <= len(framed); n++ {
				p = (p ^ uint32(framed[i+n-1])) * prime
				fn(((p ^ uint32(10+n)) * prime) & mask)
			}
		}
		for tok := range strings.FieldsSeq(text) {
			fn(hash(20, tok, "") & mask)
		}
	}
}

// splitWords lower-cases text and returns its runs of letters and digits
// (identifiers split at _ - . and camelCase), confound words removed.
func splitWords(text string) []string {
	var out []string
	var b strings.Builder
	var prevLower bool
	flush := func() {
		if b.Len() > 0 {
			w := b.String()
			if !confoundWords[w] {
				out = append(out, w)
			}
			b.Reset()
		}
	}
	for _, r := range text {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if unicode.IsUpper(r) && prevLower {
				flush()
			}
			prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
			b.WriteRune(unicode.ToLower(r))
		default:
			flush()
			prevLower = false
			if r == '/' || r == '@' || r == '$' || r == '`' || r == '<' || r == '>' || r == '|' {
				out = append(out, string(r)) // punctuation that matters in a definition
			}
		}
	}
	flush()
	return out
}

// hash is 32-bit FNV-1a of a tag byte, a, a separator and b.
func hash(tag byte, a, b string) uint32 {
	const prime = 16777619
	h := uint32(2166136261)
	h = (h ^ uint32(tag)) * prime
	for i := 0; i < len(a); i++ {
		h = (h ^ uint32(a[i])) * prime
	}
	if b != "" {
		h = (h ^ 0x1f) * prime
		for i := 0; i < len(b); i++ {
			h = (h ^ uint32(b[i])) * prime
		}
	}
	return h
}
