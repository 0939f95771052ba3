package rules

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
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
	for _, m := range base64Runs(s, maxEncoded) {
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
	for _, m := range hexRuns(s, maxEncoded) {
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

// base64Runs finds up to max maximal runs of base64 characters
// ([A-Za-z0-9+/_-]) at least 32 long, with up to two trailing '=': what
// reBase64 matches, in one linear pass (the regexp's bounded repetition
// made it backtrack at every position). A run of 32 starting anywhere in
// [i, i+32) covers i+31, so when that byte is not base64 the scan skips
// 32 bytes: ordinary words cost a few byte checks per 32.
func base64Runs(s string, max int) [][2]int {
	var out [][2]int
	// Invariant: i == 0 or s[i-1] is not base64.
	for i := 0; i+32 <= len(s) && len(out) < max; {
		if !isB64(s[i+31]) {
			i += 32
			continue
		}
		k := i + 31 // start of the run holding i+31
		for k > i && isB64(s[k-1]) {
			k--
		}
		j := i + 32
		for j < len(s) && isB64(s[j]) {
			j++
		}
		if j-k >= 32 {
			end := j
			for n := 0; n < 2 && end < len(s) && s[end] == '='; n++ {
				end++
			}
			out = append(out, [2]int{k, end})
		}
		i = j + 1
	}
	return out
}

func isB64(c byte) bool { return byteClasses[c]&classB64 != 0 }

// Byte classes of the run scanners, one table load per byte.
const (
	classB64    = 1 << iota // [A-Za-z0-9+/_-]
	classHex                // [0-9a-fA-F]
	classHexEsc             // '\\' or 'x', as in \xHH
)

var byteClasses = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		if b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '+' || b == '/' || b == '_' || b == '-' {
			t[c] |= classB64
		}
		if b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F' {
			t[c] |= classHex
		}
		if b == '\\' || b == 'x' {
			t[c] |= classHexEsc
		}
	}
	return t
}()

// mayHoldHexRun reports whether s has a stretch of hex digits, '\\' and
// 'x' holding at least 40 hex digits: what every hex run lies in. One
// pass, so that prose (whose words are full of a-f pairs) skips
// hexRuns' attempt at every position.
func mayHoldHexRun(s string) bool {
	const need = 40
	in := func(c byte) bool { return byteClasses[c]&(classHex|classHexEsc) != 0 }
	// Invariant: i == 0 or s[i-1] is outside the stretch class. A stretch
	// of need bytes starting in [i, i+need) covers i+need-1.
	for i := 0; i+need <= len(s); {
		if !in(s[i+need-1]) {
			i += need
			continue
		}
		k := i + need - 1
		for k > i && in(s[k-1]) {
			k--
		}
		digits, j := 0, k
		for ; j < len(s) && in(s[j]); j++ {
			if byteClasses[s[j]]&classHex != 0 {
				if digits++; digits >= need {
					return true
				}
			}
		}
		i = j + 1
	}
	return false
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// hexRuns finds up to max runs of at least 20 hex byte pairs, each
// optionally written \xHH: what reHex matches, in one linear pass.
func hexRuns(s string, max int) [][2]int {
	if !mayHoldHexRun(s) {
		return nil
	}
	var out [][2]int
	for i := 0; i < len(s) && len(out) < max; {
		j, pairs := i, 0
		for {
			k := j
			if k+1 < len(s) && s[k] == '\\' && s[k+1] == 'x' {
				k += 2
			}
			if k+1 < len(s) && isHexDigit(s[k]) && isHexDigit(s[k+1]) {
				j, pairs = k+2, pairs+1
				continue
			}
			break
		}
		if pairs >= 20 {
			out = append(out, [2]int{i, j})
			i = j
			continue
		}
		i++
	}
	return out
}
