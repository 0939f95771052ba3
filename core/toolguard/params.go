package toolguard

import (
	"encoding/json"
	"strings"
)

// callParams is a request's params as the guards read them: the tool's
// name (or a resource's uri), and the arguments raw and decoded.
type callParams struct {
	name    string
	uri     string
	args    json.RawMessage
	decoded any
	// argsText is args as a string: a slice of the decoding's own copy
	// of params, which decoded's strings slice too.
	argsText string
}

// strictArgs is what the rules need of a call's arguments strictly
// decoded (decodeStrict's rules): their JSON text and its decoding, whose
// strings slice that text. The zero value says there is none.
type strictArgs struct {
	text string
	v    any
}

// strict is p's arguments as strictArgs (none when ok is false or the
// params had none).
func (p callParams) strict(ok bool) strictArgs {
	if !ok || p.argsText == "" {
		return strictArgs{}
	}
	return strictArgs{text: p.argsText, v: p.decoded}
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
	d := strictDecoder{src: string(params)}
	if !d.take('{') {
		return p, false
	}
	var seen memberNames
	for first := true; !d.take('}'); first = false {
		if !first && !d.take(',') || d.peek() != '"' {
			return p, false
		}
		key, ok := d.str()
		if !ok || !d.take(':') {
			return p, false
		}
		if !seen.add(key) {
			return p, false // a duplicate
		}
		switch {
		case key == "name" || key == "uri":
			if d.peek() != '"' {
				return p, false
			}
			v, ok := d.str()
			if !ok {
				return p, false
			}
			if key == "name" {
				p.name = v
			} else {
				p.uri = v
			}
		case key == "arguments":
			start := d.pos
			if p.decoded, ok = d.value(1); !ok {
				return p, false
			}
			p.argsText = strings.TrimLeft(d.src[start:d.pos], " \t\r\n")
			p.args = json.RawMessage(p.argsText)
		case strings.EqualFold(key, "name") || strings.EqualFold(key, "uri") || strings.EqualFold(key, "arguments"):
			return p, false
		default:
			if _, ok := d.value(1); !ok {
				return p, false
			}
		}
	}
	return p, d.end()
}

// memberNames is a set of member names: a few in an array (params have two or
// three), a map beyond, so that many names cost no quadratic search.
type memberNames struct {
	few [6]string
	n   int
	all map[string]struct{}
}

// add adds name, reporting false when it was in the set already.
func (s *memberNames) add(name string) bool {
	if s.all == nil {
		for _, f := range s.few[:s.n] {
			if f == name {
				return false
			}
		}
		if s.n < len(s.few) {
			s.few[s.n] = name
			s.n++
			return true
		}
		s.all = make(map[string]struct{}, 2*len(s.few))
		for _, f := range s.few {
			s.all[f] = struct{}{}
		}
	}
	if _, dup := s.all[name]; dup {
		return false
	}
	s.all[name] = struct{}{}
	return true
}
