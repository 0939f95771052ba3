package rules

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The linear scanners find what the regular expressions they replaced
// found (checked on random text built from the characters that matter).
func TestRunsMatchTheirRegexps(t *testing.T) {
	b64 := regexp.MustCompile(`[A-Za-z0-9+/_-]{32,}={0,2}`)
	hexRe := regexp.MustCompile(`(?:(?:\\x)?[0-9a-fA-F]{2}){20,}`)
	alphabet := []string{"a", "F", "0", "9", "+", "/", "=", " ", "\\x", "g", "Z", "-", "\n"}
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 3000; n++ {
		var sb strings.Builder
		for i := r.IntN(300); i > 0; i-- {
			// Long runs of one class make matches likely.
			c := alphabet[r.IntN(len(alphabet))]
			sb.WriteString(strings.Repeat(c, 1+r.IntN(12)))
		}
		s := sb.String()
		if got, want := spans(base64Runs(s, 1000)), spans2(b64.FindAllStringIndex(s, 1000)); got != want {
			t.Fatalf("base64 runs of %q:\n got %s\nwant %s", s, got, want)
		}
		if got, want := spans(hexRuns(s, 1000)), spans2(hexRe.FindAllStringIndex(s, 1000)); got != want {
			t.Fatalf("hex runs of %q:\n got %s\nwant %s", s, got, want)
		}
	}
}

func spans(in [][2]int) string {
	var sb strings.Builder
	for _, s := range in {
		sb.WriteString("[" + strconv.Itoa(s[0]) + "," + strconv.Itoa(s[1]) + ")")
	}
	return sb.String()
}

func spans2(in [][]int) string {
	out := make([][2]int, len(in))
	for i, s := range in {
		out[i] = [2]int{s[0], s[1]}
	}
	return spans(out)
}
