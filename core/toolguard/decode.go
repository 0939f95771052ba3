package toolguard

import (
	"bytes"
	"encoding/json"
	"io"

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
func decodeStrict(raw []byte) (v any, ok bool) {
	d := jsontext.NewDecoder(bytes.NewBuffer(raw))
	v, ok = decodeValue(d, 0)
	if !ok {
		return nil, false
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return nil, false // a second value or trailing bytes
	}
	return v, true
}

func decodeValue(d *jsontext.Decoder, depth int) (any, bool) {
	switch d.PeekKind() {
	case '{':
		if depth >= maxDecodeDepth {
			return nil, false
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, false
		}
		m := map[string]any{}
		for d.PeekKind() != '}' {
			k, err := d.ReadToken()
			if err != nil || k.Kind() != '"' {
				return nil, false
			}
			name := k.String()
			e, ok := decodeValue(d, depth+1)
			if !ok {
				return nil, false
			}
			m[name] = e
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, false
		}
		return m, true
	case '[':
		if depth >= maxDecodeDepth {
			return nil, false
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, false
		}
		a := []any{}
		for d.PeekKind() != ']' {
			e, ok := decodeValue(d, depth+1)
			if !ok {
				return nil, false
			}
			a = append(a, e)
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, false
		}
		return a, true
	case '0':
		n, err := d.ReadValue()
		if err != nil {
			return nil, false
		}
		return json.Number(n), true
	case '"', 't', 'f', 'n':
		t, err := d.ReadToken()
		if err != nil {
			return nil, false
		}
		switch t.Kind() {
		case '"':
			return t.String(), true
		case 't', 'f':
			return t.Bool(), true
		}
		return nil, true
	}
	return nil, false // invalid, or the end of the input
}
