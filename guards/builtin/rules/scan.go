package rules

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-mcp/gatehouse/guards/parts"
)

// MaxScan is the most bytes of any one string a rule looks at; the rest is
// ignored (the host also caps and flags truncated envelopes).
const MaxScan = 256 << 10

// maxStrings and maxDepth bound a walk over a JSON document (arguments,
// schemas).
const (
	maxStrings = 2048
	maxDepth   = 32
)

// capText cuts s to MaxScan bytes at a rune boundary, so spans found in the
// result are valid spans of s.
func capText(s string) string {
	if len(s) <= MaxScan {
		return s
	}
	cut := MaxScan
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// field is one string found in a JSON document, with its JSON Pointer.
type field struct {
	path  string
	key   string // the object key holding the value, "" in arrays
	value string
}

// walkJSON decodes raw and returns its string values (depth-first, object
// keys sorted) with their JSON Pointers under prefix. It tolerates invalid
// JSON by returning nothing, and stops at maxStrings values or MaxScan
// bytes in total.
func walkJSON(raw json.RawMessage, prefix string) []field {
	fs, _ := walkJSONAll(raw, prefix)
	return fs
}

// walkJSONAll is walkJSON, and reports whether the walk saw every string
// of raw in full (false: too large to decode, or cut by a bound).
func walkJSONAll(raw json.RawMessage, prefix string) ([]field, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	if len(raw) > 4*MaxScan {
		return nil, false // too large to decode within budget; the host caps envelopes earlier
	}
	// Unmarshal (no Decoder and its buffer: most of a small argument's
	// cost) gives the same strings and structure whenever it succeeds;
	// numbers, which the walk skips, come as float64. Otherwise — trailing
	// data, a number beyond float64 — the first value is decoded as before.
	var v any
	if json.Unmarshal(raw, &v) != nil {
		v = nil
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, true // not JSON: nothing to scan (the host checked the envelope)
		}
	}
	return walkDecoded(v, prefix)
}

// walkDecodedAll is walkJSONAll on raw already decoded into v (strings,
// maps and slices as encoding/json gives them; numbers of any type).
func walkDecodedAll(raw json.RawMessage, v any, prefix string) ([]field, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	if len(raw) > 4*MaxScan {
		return nil, false
	}
	return walkDecoded(v, prefix)
}

func walkDecoded(v any, prefix string) ([]field, bool) {
	w := walker{}
	w.walk(v, prefix, "", 0)
	return w.out, !w.cut
}

type walker struct {
	out   []field
	total int
	cut   bool // a bound left something unseen
}

func (w *walker) walk(v any, path, key string, depth int) {
	if depth > maxDepth || len(w.out) >= maxStrings || w.total >= MaxScan {
		w.cut = true
		return
	}
	switch t := v.(type) {
	case string:
		s := capText(t)
		if len(s) < len(t) {
			w.cut = true
		}
		w.total += len(s)
		w.out = append(w.out, field{path: path, key: key, value: s})
	case map[string]any:
		var small [8]string // most objects' names fit: no allocation for them
		for _, k := range parts.SortedNames(small[:0], t) {
			w.walk(t[k], path+"/"+escapePointer(k), k, depth+1)
		}
	case []any:
		for i, e := range t {
			w.walk(e, path+"/"+strconv.Itoa(i), key, depth+1)
		}
	case json.Number:
		// Numbers carry no text worth scanning, but keep them visible to
		// rules that look at key/value pairs (e.g. a port).
	}
}

// escapePointer escapes a JSON Pointer reference token (RFC 6901).
func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// lower returns an ASCII-lowercased copy; byte offsets are preserved, which
// matters because spans point into the original string.
func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
