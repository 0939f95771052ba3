package rules

import (
	"unicode"
	"unicode/utf8"
)

// Weights of the Unicode rules.
const (
	wZeroWidth = 0.6
	wTags      = 0.95
	wBidi      = 0.8
	wHomoglyph = 0.6
)

func isZeroWidth(r rune) bool {
	switch r {
	case 0x200B, 0x200C, 0x200D, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0x180E, 0xFEFF, 0x00AD, 0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0:
		return true
	}
	return false
}

// isBidiControl reports embedding, override and isolate controls, the ones
// that reorder displayed text ("Trojan Source"). The plain marks LRM/RLM
// are common in right-to-left prose and are not counted.
func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// isTag reports the Unicode tag block, invisible characters that can spell
// out a whole hidden ASCII instruction ("ASCII smuggling").
func isTag(r rune) bool { return r >= 0xE0000 && r <= 0xE007F }

// scanUnicode reports invisible characters, bidi controls and words mixing
// Latin with Cyrillic or Greek look-alikes. One finding per kind, spanning
// the first to the last occurrence.
func scanUnicode(s, path, tool string) []finding {
	if isASCII(s) {
		return nil // every rule here needs a rune beyond ASCII
	}
	var out []finding
	zw, bidi, tag := [2]int{-1, -1}, [2]int{-1, -1}, [2]int{-1, -1}
	nzw, nbidi, ntag := 0, 0, 0
	mark := func(sp *[2]int, n *int, i, size int) {
		if sp[0] < 0 {
			sp[0] = i
		}
		sp[1] = i + size
		*n++
	}
	// Homoglyph state: the current word's scripts.
	wordStart, latin, confusable := -1, false, false
	homo := [2]int{-1, -1}
	nhomo := 0
	endWord := func(end int) {
		if wordStart >= 0 && latin && confusable {
			if homo[0] < 0 {
				homo[0] = wordStart
			}
			homo[1] = end
			nhomo++
		}
		wordStart, latin, confusable = -1, false, false
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if isASCIILetter(c) {
				if wordStart < 0 {
					wordStart = i
				}
				latin = true
			} else if !(c >= '0' && c <= '9') && c != '_' {
				endWord(i)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case isTag(r):
			mark(&tag, &ntag, i, size)
		case isZeroWidth(r):
			if !(r == 0xFEFF && i == 0) { // a leading BOM is harmless
				mark(&zw, &nzw, i, size)
			}
		case isBidiControl(r):
			mark(&bidi, &nbidi, i, size)
		}
		switch {
		case unicode.IsLetter(r):
			if wordStart < 0 {
				wordStart = i
			}
			if unicode.In(r, unicode.Cyrillic, unicode.Greek) || isFullwidthLatin(r) {
				confusable = true
			} else if unicode.In(r, unicode.Latin) {
				latin = true
			}
		case unicode.IsMark(r) || isZeroWidth(r):
			// stays inside the word
		default:
			endWord(i)
		}
		i += size
	}
	endWord(len(s))
	if ntag > 0 {
		out = append(out, finding{code: "unicode-tags", weight: wTags, msg: "invisible Unicode tag characters (can spell out hidden text)", tool: tool, path: path, span: spanOf(tag[0], tag[1])})
	}
	if nzw > 0 {
		out = append(out, finding{code: "zero-width", weight: wZeroWidth, msg: "zero-width or invisible characters", tool: tool, path: path, span: spanOf(zw[0], zw[1])})
	}
	if nbidi > 0 {
		out = append(out, finding{code: "bidi", weight: wBidi, msg: "bidirectional override/isolate controls reorder the displayed text", tool: tool, path: path, span: spanOf(bidi[0], bidi[1])})
	}
	if nhomo > 0 {
		out = append(out, finding{code: "homoglyph", weight: wHomoglyph, msg: "word mixes Latin letters with Cyrillic/Greek/fullwidth look-alikes", tool: tool, path: path, span: spanOf(homo[0], homo[1])})
	}
	return out
}

// isASCII reports whether s is all ASCII, 8 bytes a step (the loads
// combine, as in utf8.ValidString).
func isASCII(s string) bool {
	for len(s) >= 8 {
		first := uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
		second := uint32(s[4]) | uint32(s[5])<<8 | uint32(s[6])<<16 | uint32(s[7])<<24
		if (first|second)&0x80808080 != 0 {
			return false
		}
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isASCIILetter(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }

func isFullwidthLatin(r rune) bool {
	return (r >= 0xFF21 && r <= 0xFF3A) || (r >= 0xFF41 && r <= 0xFF5A)
}

// nonASCIIName reports a tool name with non-ASCII letters: names are
// identifiers, and a Cyrillic "а" in "reаd_file" impersonates another tool.
func nonASCIIName(name string) (int, int, bool) {
	for i, r := range name {
		if r >= utf8.RuneSelf && unicode.IsLetter(r) {
			return i, i + utf8.RuneLen(r), true
		}
	}
	return 0, 0, false
}
