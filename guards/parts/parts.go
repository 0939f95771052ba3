// Package parts finds every string of an MCP answer that reaches the
// client — text items, structuredContent, embedded resources, resource
// links, an upstream error's message and data, prompt messages, resource
// contents — and lays them out as a guard's output (guard.Output: one
// Text, and Parts saying where each piece comes from). It masks redacted
// spans of that Text back in the answer, in place, so a masked answer
// keeps its structure.
//
// The gateway (core/toolguard) and `gatehouse guard test`
// (guards/fixture) both build guard outputs here, so a guard sees the
// same document in both.
package parts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// Roots of the two kinds of answer, as the parts' paths start.
const (
	RootResult = "/result"
	RootError  = "/error"
)

// Methods whose results have a shape the walk knows; any other result is
// walked as plain JSON (every string is a part). They repeat core/mcp's
// constants because this package is built into the WASM guards, which do
// not link the gateway's core (parts_methods_test.go checks they agree).
const (
	MethodToolsCall     = "tools/call"
	MethodPromptsGet    = "prompts/get"
	MethodResourcesRead = "resources/read"
)

// MaxParts bounds the parts an output lists (each costs the envelope a
// path); strings past it are left out of Text and the output is marked
// truncated, as for strings past the byte cap.
const MaxParts = 1 << 14

// MaskText is what replaces masked text.
const MaskText = "[redacted]"

// ErrMemberName is returned by Mask when a redacted span lies in an object
// member name: it cannot be masked in place without changing the
// document's structure, so the caller must withhold the answer instead.
var ErrMemberName = errors.New("a redacted span is in an object member name, which cannot be masked in place")

// Answer is one answer's strings, found once: its guard output, and what
// Mask needs to mask it.
type Answer struct {
	root  string
	value any // the decoded answer; Mask rewrites its strings
	found []found
	// placed is where each found string starts and ends in the output's
	// Text (a string cut at the cap: its prefix), by index in found;
	// every copy of a string shares its span.
	placed    []placed
	out       guard.Output
	truncated bool
}

// placed is a found string's span in Text, when it has one.
type placed struct {
	span [2]int
	ok   bool
}

// found is one string of the answer and where it sits in the decoded
// value: member name of obj, element idx of arr, or (neither) the root.
type found struct {
	path string
	text string
	key  bool
	obj  map[string]any
	name string
	arr  []any
	idx  int
}

// Parse decodes raw, the result (root RootResult) or the error object
// (RootError) of an answer to method, and lays its strings out as a guard
// output whose Text holds at most limit bytes (limit <= 0: no cap).
func Parse(method, root string, raw []byte, limit int) (*Answer, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode the answer's %s: %w", strings.TrimPrefix(root, "/"), err)
	}
	return ParseValue(method, root, v, limit), nil
}

// ParseValue is Parse on an answer already decoded the way Parse decodes
// it (encoding/json into any, numbers as json.Number), for a caller that
// decoded it faster itself. The Answer owns v: Mask rewrites its strings.
func ParseValue(method, root string, v any, limit int) *Answer {
	a := &Answer{root: root, value: v}
	w := &walker{}
	w.begin(root)
	if root == RootError {
		w.errorObject(v)
		a.out.IsError = true
	} else {
		w.result(method, v)
		if obj, ok := v.(map[string]any); ok && method == MethodToolsCall {
			a.out.IsError, _ = obj["isError"].(bool)
		}
	}
	a.found = append(w.first, w.rest...)
	a.layout(limit)
	return a
}

// Output is the guard's view of the answer.
func (a *Answer) Output() guard.Output { return a.out }

// Truncated says strings of the answer were cut or left out of Text (by
// the byte cap or MaxParts): a guard did not see all of it.
func (a *Answer) Truncated() bool { return a.truncated }

// layout joins the distinct strings with newlines into Text, text items
// of a tools/call result first (Text was exactly those before ABI 1.1).
func (a *Answer) layout(limit int) {
	a.placed = make([]placed, len(a.found))
	// One string (most answers: one text item) is the Text itself, not a
	// copy of it.
	if i := a.single(); i >= 0 && (limit <= 0 || len(a.found[i].text) <= limit) {
		f := a.found[i]
		sp := [2]int{0, len(f.text)}
		a.placed[i] = placed{span: sp, ok: true}
		a.out.Parts = append(a.out.Parts, guard.Part{Path: f.path, Span: sp, Key: f.key})
		a.out.Text = f.text
		return
	}
	size := 0
	for _, f := range a.found {
		size += len(f.text) + 1
	}
	if limit > 0 {
		size = min(size, limit)
	}
	var buf strings.Builder // its String() does not copy
	buf.Grow(size)
	seen := make(map[string]int, len(a.found)) // text → index of its first copy in placed
	full := false
	for i, f := range a.found {
		if f.text == "" {
			continue
		}
		if first, ok := seen[f.text]; ok {
			a.placed[i] = a.placed[first]
			if a.placed[i].ok && len(a.out.Parts) < MaxParts {
				a.out.Parts = append(a.out.Parts, guard.Part{Path: f.path, Span: a.placed[i].span, Key: f.key})
			}
			continue
		}
		seen[f.text] = i
		if full || len(a.out.Parts) >= MaxParts {
			full, a.truncated = true, true
			continue
		}
		sep := 0
		if buf.Len() > 0 {
			sep = 1
		}
		s := f.text
		if limit > 0 && buf.Len()+sep+len(s) > limit {
			s = cut(s, limit-buf.Len()-sep)
			full, a.truncated = true, true
			if s == "" {
				continue
			}
		}
		if sep == 1 {
			buf.WriteByte('\n')
		}
		start := buf.Len()
		buf.WriteString(s)
		sp := [2]int{start, buf.Len()}
		a.placed[i] = placed{span: sp, ok: true}
		a.out.Parts = append(a.out.Parts, guard.Part{Path: f.path, Span: sp, Key: f.key})
	}
	a.out.Text = buf.String()
}

// single is the index of the one non-empty string found, or -1 when
// there are none or several.
func (a *Answer) single() int {
	at := -1
	for i, f := range a.found {
		if f.text == "" {
			continue
		}
		if at >= 0 {
			return -1
		}
		at = i
	}
	return at
}

// cut returns the longest prefix of s of at most n bytes that ends on a
// rune boundary.
func cut(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Mask masks the spans of /output/text among redactions wherever their
// text is in the answer (every copy of a string shares its span) and
// returns the answer re-encoded with the number of ranges masked; with
// none it returns the answer unchanged (nil, 0). Mask rewrites the
// Answer: call it once.
func (a *Answer) Mask(redactions []guard.Redaction) (json.RawMessage, int, error) {
	var spans [][2]int
	for _, r := range redactions {
		if r.Path == "/output/text" && r.Span[1] > r.Span[0] {
			spans = append(spans, r.Span)
		}
	}
	if len(spans) == 0 {
		return nil, 0, nil
	}
	masked := 0
	for i, f := range a.found {
		p := a.placed[i]
		if !p.ok {
			continue
		}
		local := localSpans(spans, p.span)
		if len(local) == 0 {
			continue
		}
		if f.key {
			return nil, 0, fmt.Errorf("%s: %w", Shape(f.path), ErrMemberName)
		}
		text := f.text
		for j := len(local) - 1; j >= 0; j-- {
			s := local[j]
			text = text[:s[0]] + MaskText + text[s[1]:]
			masked++
		}
		switch {
		case f.obj != nil:
			f.obj[f.name] = text
		case f.arr != nil:
			f.arr[f.idx] = text
		default:
			a.value = text
		}
	}
	if masked == 0 {
		return nil, 0, nil
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a.value); err != nil {
		return nil, 0, fmt.Errorf("encode the masked answer: %w", err)
	}
	return bytes.TrimRight(out.Bytes(), "\n"), masked, nil
}

// localSpans intersects spans (of Text) with one string's span sp and
// returns them relative to the string, sorted and merged.
func localSpans(spans [][2]int, sp [2]int) [][2]int {
	var local [][2]int
	for _, s := range spans {
		a, b := max(s[0], sp[0]), min(s[1], sp[1])
		if a < b {
			local = append(local, [2]int{a - sp[0], b - sp[0]})
		}
	}
	if len(local) == 0 {
		return nil
	}
	sort.Slice(local, func(x, y int) bool { return local[x][0] < local[y][0] })
	merged := local[:1]
	for _, s := range local[1:] {
		last := &merged[len(merged)-1]
		if s[0] <= last[1] {
			last[1] = max(last[1], s[1])
		} else {
			merged = append(merged, s)
		}
	}
	return merged
}

// appendEscaped appends s to dst escaped as a JSON Pointer reference
// token (RFC 6901: "~" as "~0", "/" as "~1").
func appendEscaped(dst []byte, s string) []byte {
	for {
		i := strings.IndexAny(s, "~/")
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		if s[i] == '~' {
			dst = append(dst, "~0"...)
		} else {
			dst = append(dst, "~1"...)
		}
		s = s[i+1:]
	}
}
