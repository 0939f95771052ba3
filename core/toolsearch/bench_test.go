package toolsearch

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// scaled is the evaluation set repeated copies times under renamed
// connectors ("github2__…"): 1 000 tools per copy.
func scaled(b *testing.B, copies int) []Tool {
	base := evalTools(b)
	out := make([]Tool, 0, len(base)*copies)
	for i := 0; i < copies; i++ {
		for _, t := range base {
			slug, rest, _ := strings.Cut(t.Name, "__")
			t.Name = fmt.Sprintf("%s%d__%s", slug, i, rest)
			out = append(out, t)
		}
	}
	return out
}

var benchQueries = []string{
	"open a new bug report on a GitHub repository",
	"kill a long-running database connection",
	"who is on call right now",
	"send an email to alice@example.com with the report",
}

// BenchmarkSearch is one search_tools query's ranking (the listing
// fan-out is the endpoint's and not included).
func BenchmarkSearch(b *testing.B) {
	for _, n := range []int{1, 10} {
		ix := Build(scaled(b, n))
		b.Run(fmt.Sprintf("%d tools", ix.Len()), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if len(ix.Search(benchQueries[i%len(benchQueries)], DefaultLimit)) == 0 {
					b.Fatal("no hit")
				}
			}
		})
	}
}

// BenchmarkBuild is the index build a changed listing costs.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{1, 10} {
		tools := scaled(b, n)
		b.Run(fmt.Sprintf("%d tools", len(tools)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if Build(tools).Len() != len(tools) {
					b.Fatal("lost tools")
				}
			}
		})
	}
}

// BenchmarkCacheHit is a search_tools over a listing seen before: the
// listing's digest, then the cached index.
func BenchmarkCacheHit(b *testing.B) {
	for _, n := range []int{1, 10} {
		tools := scaled(b, n)
		items := make([]json.RawMessage, len(tools))
		for i, t := range tools {
			items[i], _ = json.Marshal(map[string]any{"name": t.Name, "definition": t.Definition})
		}
		c := NewCache(2)
		c.Index(items)
		b.Run(fmt.Sprintf("%d tools", len(tools)), func(b *testing.B) {
			for b.Loop() {
				c.Index(items)
			}
		})
	}
}
