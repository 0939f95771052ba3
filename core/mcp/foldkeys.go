package mcp

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"

	"github.com/go-json-experiment/json/jsontext"
)

// FoldedDuplicate finds, at any depth of the JSON value v, two member
// names of one object that are equal under Unicode case folding
// ("path" and "PATH", "k" and the Kelvin sign "K"). Such names read as one
// key to a decoder matching names case-insensitively (Go's encoding/json
// into a struct, among others) and as two to the gateway's policy, so an
// argument could say one thing to a policy and another to the upstream.
// It returns the path of the second name (`arguments.opts.PATH` for prefix
// "arguments") and true, or "" and false. Exact duplicates are found too;
// a value that does not parse is not its concern (false).
func FoldedDuplicate(prefix string, v []byte) (string, bool) {
	dec := jsontext.NewDecoder(bytes.NewReader(v), jsontext.AllowDuplicateNames(true))
	path, found, _ := foldWalk(dec, prefix)
	return path, found
}

// foldWalk reads one value from dec; err ends the walk (syntax).
func foldWalk(dec *jsontext.Decoder, path string) (string, bool, error) {
	tok, err := dec.ReadToken()
	if err != nil {
		return "", false, err
	}
	switch tok.Kind() {
	case '{':
		seen := map[string]bool{}
		for dec.PeekKind() != '}' {
			name, err := dec.ReadToken()
			if err != nil {
				return "", false, err
			}
			key := foldKey(name.String())
			child := path + "." + memberName(name.String())
			if seen[key] {
				return child, true, nil
			}
			seen[key] = true
			if p, found, err := foldWalk(dec, child); found || err != nil {
				return p, found, err
			}
		}
		_, err = dec.ReadToken()
		return "", false, err
	case '[':
		for i := 0; dec.PeekKind() != ']'; i++ {
			if p, found, err := foldWalk(dec, path+"["+strconv.Itoa(i)+"]"); found || err != nil {
				return p, found, err
			}
		}
		_, err = dec.ReadToken()
		return "", false, err
	}
	return "", false, nil
}

// foldKey maps name to one representative of its case-folding class:
// every rune becomes the smallest rune of its unicode.SimpleFold orbit.
func foldKey(name string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, name)
}

// memberName writes a member name for a path: bare when it is a plain
// identifier, quoted otherwise.
func memberName(name string) string {
	for i, r := range name {
		if !(r == '_' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r)) {
			return strconv.Quote(name)
		}
	}
	if name == "" {
		return `""`
	}
	return name
}
