package toolguard

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"

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
func decodeStrict(raw []byte) (v any, ok bool) {
	d := newStrictDecoder(raw)
	defer d.release()
	v, ok = d.value(0)
	if !ok {
		return nil, false
	}
	if _, err := d.d.ReadToken(); err != io.EOF {
		return nil, false // a second value or trailing bytes
	}
	return v, true
}

// strictDecoder reads src (the input, as a string) with d.
type strictDecoder struct {
	d   *jsontext.Decoder
	src string
}

// decoders are jsontext decoders for reuse: a new one allocated its
// state, name stacks and duplicate-name sets for every call (about a
// third of the guards' allocations on a small call); reset, it keeps
// them. A decoder holds nothing of its last input once reset, and what
// the strict decoder returns is copied out of src, never the decoder's
// buffer.
var decoders = sync.Pool{New: func() any { return jsontext.NewDecoder(bytes.NewReader(nil)) }}

// newStrictDecoder reads raw; release it when done.
func newStrictDecoder(raw []byte) strictDecoder {
	d := decoders.Get().(*jsontext.Decoder)
	d.Reset(bytes.NewBuffer(raw))
	return strictDecoder{d: d, src: string(raw)}
}

// release returns the decoder for reuse (sd is not used after).
func (sd strictDecoder) release() {
	sd.d.Reset(bytes.NewReader(nil))
	decoders.Put(sd.d)
}

// str reads a string (a value or an object name) as a slice of src when
// it has no escapes.
func (sd *strictDecoder) str() (string, bool) {
	val, err := sd.d.ReadValue()
	if err != nil || val.Kind() != '"' {
		return "", false
	}
	if bytes.IndexByte(val, '\\') < 0 {
		end := int(sd.d.InputOffset())
		return sd.src[end-len(val)+1 : end-1], true
	}
	u, err := jsontext.AppendUnquote(nil, val)
	if err != nil {
		return "", false
	}
	return string(u), true
}

func (sd *strictDecoder) value(depth int) (any, bool) {
	d := sd.d
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
			name, ok := sd.str()
			if !ok {
				return nil, false
			}
			e, ok := sd.value(depth + 1)
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
			e, ok := sd.value(depth + 1)
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
		end := int(d.InputOffset())
		return json.Number(sd.src[end-len(n) : end]), true
	case '"':
		return sd.str()
	case 't', 'f', 'n':
		t, err := d.ReadToken()
		if err != nil {
			return nil, false
		}
		switch t.Kind() {
		case 't', 'f':
			return t.Bool(), true
		}
		return nil, true
	}
	return nil, false // invalid, or the end of the input
}
