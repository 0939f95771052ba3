package toolguard

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// maxDecodeDepth is encoding/json's nesting limit: deeper answers are left
// to it, so they fail as they always did.
const maxDecodeDepth = 10000

// decodeStrict decodes raw in one pass into what parts.Parse's decoding
// (encoding/json into any, numbers as json.Number) gives, when raw is
// exactly one JSON value valid under RFC 7493 (UTF-8, no duplicate member
// names) — what a guest's decoder accepts (validRaw). ok is false
// otherwise, and the caller decodes the ordinary way: so the answer is
// read once, and its validity for the guests comes with it instead of
// from a second pass (~85 µs at 64 KiB).
//
// raw is copied once into a string, and every string and number of v
// without escapes is a slice of that copy: one allocation and one memmove
// instead of one of each per string (~140 µs at 64 KiB, mostly the copies).
// Only strings with escapes are unquoted into their own memory.
func decodeStrict(raw []byte) (v any, ok bool) { return decodeStrictText(string(raw)) }

// decodeStrictText is decodeStrict of a text already a string: v's
// strings slice text itself.
func decodeStrictText(text string) (v any, ok bool) {
	d := strictDecoder{src: text}
	v, ok = d.value(0)
	return v, ok && d.end()
}

// strictDecoder reads the JSON text src from pos by RFC 8259's grammar and
// RFC 7493's rules (UTF-8, no duplicate member names): what jsontext's
// decoder accepts by default, checked against it by
// TestDecodeStrictIsEncodingJSONOnValidAnswers and FuzzDecodeStrict. It
// is hand-written rather than jsontext's own decoder because a string is
// checked eight bytes at a step (jsontext checks one: its string
// validation was ~0.4 ns a byte, the largest cost of reading a 64 KiB
// answer) and a small message has no token machinery to set up. Strings
// with escapes are unquoted by jsontext itself.
type strictDecoder struct {
	src string
	pos int
}

// peek skips whitespace and returns the next byte (0 at the end).
func (d *strictDecoder) peek() byte {
	for ; d.pos < len(d.src); d.pos++ {
		switch c := d.src[d.pos]; c {
		case ' ', '\t', '\n', '\r':
		default:
			return c
		}
	}
	return 0
}

// take consumes c, the next byte after whitespace, or reports it is not.
func (d *strictDecoder) take(c byte) bool {
	if d.peek() != c {
		return false
	}
	d.pos++
	return true
}

// end reports whether only whitespace is left.
func (d *strictDecoder) end() bool { return d.peek() == 0 && d.pos == len(d.src) }

// SWAR masks: a word's bytes each 0x01, each 0x80.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// specials marks (in its bytes' high bits, once masked with highs) the
// bytes of w that end a simple string's plain run: a quote, a backslash,
// a control byte or a non-ASCII byte. A borrow can add false marks after
// a true one, but no such byte goes unmarked; where marks are, the loop
// looks byte by byte.
func specials(w uint64) uint64 {
	quote, backslash := w^(ones*'"'), w^(ones*'\\')
	zeroQ := (quote - ones) &^ quote
	zeroB := (backslash - ones) &^ backslash
	control := w - ones*0x20 // borrows out of the bytes below 0x20
	return w | zeroQ | zeroB | control&^w
}

// load64 is s[i:i+8] as a little-endian word (one load, once compiled).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// str reads a string (a value or an object name) as a slice of src when
// it has no escapes; ok is false on anything jsontext would refuse.
func (d *strictDecoder) str() (string, bool) {
	if !d.take('"') {
		return "", false
	}
	s, i := d.src, d.pos
	for {
		for i+16 <= len(s) && (specials(load64(s, i))|specials(load64(s, i+8)))&highs == 0 {
			i += 16
		}
		for i+8 <= len(s) && specials(load64(s, i))&highs == 0 {
			i += 8
		}
		if i >= len(s) {
			return "", false
		}
		switch c := s[i]; {
		case c == '"':
			v := s[d.pos:i]
			d.pos = i + 1
			return v, true
		case c == '\\':
			return d.escaped()
		case c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return "", false
			}
			i += n
		}
	}
}

// escaped reads the rest of a string with escapes (its opening quote at
// d.pos-1): it finds the closing quote and lets jsontext unquote (and
// check) the whole.
func (d *strictDecoder) escaped() (string, bool) {
	s, start := d.src, d.pos-1
	i := d.pos
	for ; i < len(s) && s[i] != '"'; i++ {
		if s[i] == '\\' {
			i++
		}
	}
	if i >= len(s) {
		return "", false
	}
	u, err := jsontext.AppendUnquote(nil, s[start:i+1])
	if err != nil {
		return "", false
	}
	d.pos = i + 1
	return string(u), true
}

// number reads a number by RFC 8259's grammar, as a slice of src.
func (d *strictDecoder) number() (json.Number, bool) {
	s, start := d.src, d.pos
	i := start
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = digits(s, i)
	default:
		return "", false
	}
	if i < len(s) && s[i] == '.' {
		if j := digits(s, i+1); j > i+1 {
			i = j
		} else {
			return "", false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if j := digits(s, i); j > i {
			i = j
		} else {
			return "", false
		}
	}
	d.pos = i
	return json.Number(s[start:i]), true
}

// digits is the end of the run of decimal digits at s[i:].
func digits(s string, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}

// literal reads word (true, false or null). What follows it is its
// container's (or the end's) to judge: "truex" fails there.
func (d *strictDecoder) literal(word string) bool {
	s, i := d.src, d.pos
	if len(s)-i < len(word) || s[i:i+len(word)] != word {
		return false
	}
	d.pos = i + len(word)
	return true
}

// value reads one value at depth (its container's depth: 0 at the top).
func (d *strictDecoder) value(depth int) (any, bool) {
	switch d.peek() {
	case '{':
		if depth >= maxDecodeDepth {
			return nil, false
		}
		d.pos++
		m := map[string]any{}
		if d.take('}') {
			return m, true
		}
		for {
			if d.peek() != '"' {
				return nil, false
			}
			name, ok := d.str()
			if !ok || !d.take(':') {
				return nil, false
			}
			if _, dup := m[name]; dup {
				return nil, false
			}
			e, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			m[name] = e
			if d.take('}') {
				return m, true
			}
			if !d.take(',') {
				return nil, false
			}
		}
	case '[':
		if depth >= maxDecodeDepth {
			return nil, false
		}
		d.pos++
		a := []any{}
		if d.take(']') {
			return a, true
		}
		for {
			e, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			a = append(a, e)
			if d.take(']') {
				return a, true
			}
			if !d.take(',') {
				return nil, false
			}
		}
	case '"':
		s, ok := d.str()
		return boxed(s), ok
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return d.number()
	}
	return nil, false // invalid, or the end of the input
}

// boxed is s as an interface value. The content block types every MCP
// answer repeats are boxed from constants, which costs no allocation
// (boxing any other string allocates its header: one allocation a
// string).
func boxed(s string) any {
	switch s {
	case "text":
		return "text"
	case "image":
		return "image"
	case "audio":
		return "audio"
	case "resource":
		return "resource"
	case "resource_link":
		return "resource_link"
	}
	return s
}
