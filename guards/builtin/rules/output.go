package rules

import (
	"cmp"
	"slices"
	"unicode/utf8"

	"github.com/gatehouse-mcp/gatehouse/guards/parts"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// maxOutputScan bounds the output bytes one call's rules read when the host
// lists the output's parts: the host's default envelope cap, so what the
// host hands over is read whole.
const maxOutputScan = 4 * MaxScan

// windowOverlap is how much consecutive windows over one large part
// overlap, so that a match across a window's edge is still found whole.
const windowOverlap = 4 << 10

// segment is a piece of the output text the rules scan at once, and where
// it starts in the text (findings' spans are shifted by it).
type segment struct {
	text   string
	offset int
}

// outputSegments cuts an output's text into the pieces the rules scan.
// A host of ABI 1.0 (no parts) gets what it always got: the text's first
// MaxScan bytes. With parts, every part is read: neighbouring parts
// together up to MaxScan, a larger part in overlapping windows, up to
// maxOutputScan in all, so nothing — a structuredContent string after a
// long text item, the end of a long resource — is left unread because of
// where it lies.
func outputSegments(out *guard.Output) []segment {
	if out == nil || out.Text == "" {
		return nil
	}
	text := out.Text
	if len(out.Parts) == 0 {
		return []segment{{text: capText(text)}}
	}
	spans := make([][2]int, 0, len(out.Parts))
	for _, p := range out.Parts {
		if s := p.Span; 0 <= s[0] && s[0] < s[1] && s[1] <= len(text) {
			spans = append(spans, s)
		}
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	var segs []segment
	budget, covered := maxOutputScan, 0
	add := func(start, end int) {
		start, end = runeStart(text, start), runeStart(text, end)
		if n := end - start; n > budget {
			end = runeStart(text, start+budget)
		}
		if start < end {
			segs = append(segs, segment{text: text[start:end], offset: start})
			budget -= end - start
		}
	}
	for i := 0; i < len(spans) && budget > 0; {
		start, end := max(spans[i][0], covered), spans[i][1]
		j := i + 1
		for j < len(spans) && spans[j][1]-start <= MaxScan {
			end = max(end, spans[j][1])
			j++
		}
		if start >= end {
			i = j
			continue
		}
		if end-start <= MaxScan {
			add(start, end)
		} else {
			for w := start; budget > 0; w += MaxScan - windowOverlap {
				add(w, min(w+MaxScan, end))
				if w+MaxScan >= end {
					break
				}
			}
		}
		covered, i = end, j
	}
	return segs
}

// runeStart moves i back to the start of the rune it falls in.
func runeStart(s string, i int) int {
	if i >= len(s) {
		return len(s)
	}
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

// scanSegments runs scan on each segment of out and returns the findings
// with their spans in out.Text, each once (windows overlap), the part
// each lies in named in its message when the host listed parts (by its
// shape: the message reaches the client, and names the upstream chose
// may hold what was found).
func scanSegments(v *View, out *guard.Output, scan func(string, keywordsFound) []finding) []finding {
	var fs []finding
	type seen struct {
		code string
		span [2]int
	}
	dup := map[seen]bool{}
	for _, seg := range v.segments(out) {
		for _, f := range scan(seg.text, seg.kw) {
			if f.span != nil {
				f.span = spanOf(f.span[0]+seg.offset, f.span[1]+seg.offset)
				k := seen{f.code, *f.span}
				if dup[k] {
					continue
				}
				dup[k] = true
				if p := partAt(out.Parts, f.span[0]); p != "" {
					f.msg += " (in " + parts.Shape(p) + ")"
				}
			}
			fs = append(fs, f)
		}
	}
	return fs
}

// partAt is the path of the part whose span holds offset, "" if none.
func partAt(parts []guard.Part, offset int) string {
	for _, p := range parts {
		if p.Span[0] <= offset && offset < p.Span[1] {
			return p.Path
		}
	}
	return ""
}
