package model

import (
	"strings"
	"testing"
)

// benchText is ~1 KiB and ~64 KiB of command-line and prose-like text.
func benchText(n int) string {
	const chunk = "git log --oneline --graph | head -n 20; find . -name '*.go' -exec grep -n TODO {} + && echo done. "
	return strings.Repeat(chunk, n/len(chunk)+1)[:n]
}

// BenchmarkScore reports the cost per KiB of each built-in model
// natively and, built for wasip1, under wazero: `make guard-model-bench`.
func BenchmarkScore(b *testing.B) {
	for _, name := range []string{CommandInjection, ToolPoisoning} {
		m, err := Builtin(name)
		if err != nil {
			b.Fatal(err)
		}
		for _, size := range []int{1 << 10, 64 << 10} {
			text := benchText(size)
			b.Run(name+"/"+map[int]string{1 << 10: "1KiB", 64 << 10: "64KiB"}[size], func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					m.Score(text)
				}
			})
		}
	}
}
