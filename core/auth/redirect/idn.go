package redirect

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/net/idna"
)

// checkIDN decodes a host's A-labels and refuses the look-alikes:
// punycode that is not valid IDNA2008, a label mixing scripts (UTS #39
// "highly restrictive": one script, or Latin with the CJK combinations),
// and a label written wholly in Cyrillic or Greek letters that look like
// Latin ones ("аpple" in Cyrillic). A single-script IDN label that passes
// is still never matched by a wildcard (see pattern.go): only an exact
// rule, which an admin wrote or approved, allows it.
func checkIDN(host string) error {
	for _, l := range strings.Split(host, ".") {
		if !strings.HasPrefix(l, "xn--") {
			continue
		}
		ul, err := idna.Registration.ToUnicode(l)
		if err != nil || ul == l {
			return refuse(ClassIDN, "its host label %q is not valid punycode", l)
		}
		if back, err := idna.Registration.ToASCII(ul); err != nil || back != l {
			return refuse(ClassIDN, "its host label %q does not round-trip through IDNA", l)
		}
		if scripts := labelScripts(ul); !allowedScripts(scripts) {
			return refuse(ClassIDN, "its host label %q (%s) mixes scripts (%s): a look-alike", l, ul, strings.Join(scripts, " and "))
		}
		if latinLookalike(ul) {
			return refuse(ClassIDN, "its host label %q (%s) is made of letters that look like Latin ones: a look-alike", l, ul)
		}
	}
	return nil
}

// scriptTables are the scripts a host label is checked against: Common
// and Inherited (digits, hyphen, combining marks) count as none.
var scriptNames = func() []string {
	names := make([]string, 0, len(unicode.Scripts))
	for n := range unicode.Scripts {
		if n != "Common" && n != "Inherited" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}()

// labelScripts returns the scripts of a label's letters, sorted.
func labelScripts(l string) []string {
	var out []string
	for _, r := range l {
		if r < 0x80 {
			if r >= 'a' && r <= 'z' && !slices.Contains(out, "Latin") {
				out = append(out, "Latin")
			}
			continue
		}
		if unicode.Is(unicode.Common, r) || unicode.Is(unicode.Inherited, r) {
			continue
		}
		for _, n := range scriptNames {
			if unicode.Is(unicode.Scripts[n], r) {
				if !slices.Contains(out, n) {
					out = append(out, n)
				}
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// cjkSets are the script combinations UTS #39 allows in one label.
var cjkSets = [][]string{
	{"Han", "Hiragana", "Katakana", "Latin"},
	{"Bopomofo", "Han", "Latin"},
	{"Han", "Hangul", "Latin"},
}

func allowedScripts(scripts []string) bool {
	if len(scripts) <= 1 {
		return true
	}
	for _, set := range cjkSets {
		all := true
		for _, s := range scripts {
			all = all && slices.Contains(set, s)
		}
		if all {
			return true
		}
	}
	return false
}

// latinConfusables are Cyrillic and Greek letters that render like Latin
// ones (the common part of Unicode's confusables.txt for those scripts).
var latinConfusables = map[rune]bool{
	// Cyrillic
	'а': true, 'в': true, 'е': true, 'ё': true, 'к': true, 'м': true, 'н': true, 'о': true, 'р': true,
	'с': true, 'т': true, 'у': true, 'х': true, 'ѕ': true, 'і': true, 'ї': true, 'ј': true, 'һ': true,
	'ԁ': true, 'ԛ': true, 'ԝ': true, 'ӏ': true, 'ү': true, 'ɡ': true, 'ь': true, 'ѡ': true,
	// Greek
	'α': true, 'β': true, 'ε': true, 'ι': true, 'κ': true, 'ν': true, 'ο': true, 'ρ': true,
	'τ': true, 'υ': true, 'χ': true, 'ϲ': true, 'ϳ': true, 'η': true,
}

// latinLookalike reports whether every letter of a Cyrillic or Greek
// label looks like a Latin letter (a whole-script confusable).
func latinLookalike(l string) bool {
	letters := 0
	for _, r := range l {
		if !unicode.IsLetter(r) {
			continue
		}
		if !latinConfusables[r] {
			return false
		}
		letters++
	}
	return letters > 0
}
