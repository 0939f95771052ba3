package toolguard

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
)

// callParams is a request's params as the guards read them: the tool's
// name (or a resource's uri), and the arguments raw and decoded.
type callParams struct {
	name    string
	uri     string
	args    json.RawMessage
	decoded any
}

// readCallParams reads params in one strict pass (decodeStrict's rules:
// RFC 7493, no duplicate member names): the name, the arguments' raw JSON
// and their decoding, so the arguments are neither re-read for the guests'
// validity nor decoded again by the rules. ok is false for anything else
// — not an object, invalid, a name or uri that is not a string, a member
// whose name matches "name", "uri" or "arguments" only case-insensitively (which
// encoding/json would take) — and the caller reads params the ordinary
// way, with its errors.
func readCallParams(params []byte) (p callParams, ok bool) {
	sd := newStrictDecoder(params)
	defer sd.release()
	d := sd.d
	if d.PeekKind() != '{' {
		return p, false
	}
	if _, err := d.ReadToken(); err != nil {
		return p, false
	}
	for d.PeekKind() != '}' {
		key, ok := sd.str()
		if !ok {
			return p, false
		}
		switch {
		case key == "name":
			if d.PeekKind() != '"' {
				return p, false
			}
			if p.name, ok = sd.str(); !ok {
				return p, false
			}
		case key == "uri":
			if d.PeekKind() != '"' {
				return p, false
			}
			if p.uri, ok = sd.str(); !ok {
				return p, false
			}
		case key == "arguments":
			start := int(d.InputOffset())
			if p.decoded, ok = sd.value(1); !ok {
				return p, false
			}
			raw := bytes.TrimLeft(params[start:d.InputOffset()], " \t\r\n:")
			p.args = bytes.Clone(raw)
		case strings.EqualFold(key, "name") || strings.EqualFold(key, "uri") || strings.EqualFold(key, "arguments"):
			return p, false
		default:
			if err := d.SkipValue(); err != nil {
				return p, false
			}
		}
	}
	if _, err := d.ReadToken(); err != nil {
		return p, false
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return p, false
	}
	return p, true
}
