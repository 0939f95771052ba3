package rules

import (
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"strings"
)

var (
	// Base64 (standard or URL alphabet) runs long enough to hide a sentence.
	reBase64 = regexp.MustCompile(`[A-Za-z0-9+/_-]{32,}={0,2}`)
	// Hex runs of at least 20 bytes, optionally \x-escaped.
	reHex = regexp.MustCompile(`(?:(?:\\x)?[0-9a-fA-F]{2}){20,}`)
)

// maxEncoded caps how many candidate runs one string may cost.
const maxEncoded = 16

// encoded is a run of base64 or hex whose decoding is readable text.
type encoded struct {
	start, end int
	kind       string
	text       string
}

// findEncoded returns base64/hex runs that decode to mostly printable
// text. Binary payloads (images in data: URIs, hashes, keys) decode to
// noise and are ignored.
func findEncoded(s string) []encoded {
	var out []encoded
	for _, m := range reBase64.FindAllStringIndex(s, maxEncoded) {
		run := s[m[0]:m[1]]
		if isHexOnly(strings.TrimRight(run, "=")) {
			continue // handled as hex
		}
		if !mixedCase(run) {
			continue // identifiers, paths and words are not base64 payloads
		}
		if t, ok := decodeBase64Text(run); ok {
			out = append(out, encoded{m[0], m[1], "base64", t})
		}
	}
	for _, m := range reHex.FindAllStringIndex(s, maxEncoded) {
		run := strings.ReplaceAll(s[m[0]:m[1]], `\x`, "")
		b, err := hex.DecodeString(run)
		if err != nil {
			continue
		}
		if t := string(b); readable(t) {
			out = append(out, encoded{m[0], m[1], "hex", t})
		}
	}
	return out
}

func decodeBase64Text(run string) (string, bool) {
	trim := strings.TrimRight(run, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		// Try the run and its prefixes aligned to 4 characters, since a run
		// found inside text may carry a stray trailing character.
		n := len(trim) - len(trim)%4
		for _, cand := range []string{trim, trim[:n]} {
			b, err := enc.DecodeString(cand)
			if err == nil && readable(string(b)) {
				return string(b), true
			}
		}
	}
	return "", false
}

// readable reports whether b looks like human text: at least 16 bytes,
// >= 90 % printable ASCII or whitespace, >= 40 % letters, and some spaces
// or structural punctuation (JSON, key=value) (so random bytes and compressed data fail).
func readable(t string) bool {
	if len(t) < 16 {
		return false
	}
	printable, letters, spaces := 0, 0, 0
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c == ' ' || c == '\n' || c == '\t' || c == '\r':
			printable++
			spaces++
		case c >= 0x20 && c < 0x7f:
			printable++
			if isASCIILetter(c) {
				letters++
			}
		}
	}
	return printable*10 >= len(t)*9 && letters*5 >= len(t)*2 && (spaces > 0 || strings.ContainsAny(t, `"={}:,&`))
}

func isHexOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func mixedCase(s string) bool {
	up, lo := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		up = up || (c >= 'A' && c <= 'Z')
		lo = lo || (c >= 'a' && c <= 'z')
	}
	return up && lo
}
