package toolsearch

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
)

func tool(name, desc string, params ...string) Tool {
	def, _ := json.Marshal(map[string]any{"name": name, "description": desc})
	return Tool{Name: name, Description: desc, Params: params, Definition: def}
}

func names(hits []Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Tool.Name
	}
	return out
}

func TestTerms(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"snake_case and the aggregate separator split into words", "github__create_issue", []string{"github", "creat", "issu"}},
		{"camelCase splits at the case change", "getUserProfile", []string{"get", "user", "profil"}},
		{"an acronym before a word stays one word", "HTTPServer", []string{"http", "server"}},
		{"kebab-case and dots split", "get-sum.v2", []string{"get", "sum", "v2"}},
		{"stop words are dropped and plurals stemmed", "List all the files in a folder", []string{"list", "file", "folder"}},
		{"punctuation only gives nothing", " -- !! ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Terms(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("Terms(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestSearchScoresByHand checks the BM25 arithmetic against scores worked
// out by hand for a three-tool set (k1 1.2, b 0.75, name words ×3).
func TestSearchScoresByHand(t *testing.T) {
	ix := Build([]Tool{
		tool("send_email", "Send a message"),                 // send 3+1, email 3, messag 1: length 8
		tool("list_files", "List files in a folder", "path"), // list 4, file 4, folder 1, path 1: length 10
		tool("read_file", "Read a file", "path"),             // read 4, file 4, path 1: length 9
	})
	avg := 27.0 / 3
	idf2 := math.Log(1 + (3-2+0.5)/(2+0.5)) // "file" and "path": in 2 of 3 tools
	idf1 := math.Log(1 + (3-1+0.5)/(1+0.5)) // "email": in 1 of 3
	term := func(tf, length, idf float64) float64 {
		return idf * tf * 2.2 / (tf + 1.2*(0.25+0.75*length/avg))
	}
	tests := []struct {
		name  string
		query string
		want  []Hit
	}{
		{"two shared words: the shorter tool ranks first", "file path", []Hit{
			{Tool: tool("read_file", ""), Score: term(4, 9, idf2) + term(1, 9, idf2)},
			{Tool: tool("list_files", ""), Score: term(4, 10, idf2) + term(1, 10, idf2)},
		}},
		{"a rare word scores by its idf", "emails", []Hit{
			{Tool: tool("send_email", ""), Score: term(3, 8, idf1)},
		}},
		{"a repeated query word counts once", "email email email", []Hit{
			{Tool: tool("send_email", ""), Score: term(3, 8, idf1)},
		}},
		{"no shared word finds nothing", "calendar", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ix.Search(tt.query, 5)
			if len(got) != len(tt.want) {
				t.Fatalf("Search(%q) = %v, want %d hits", tt.query, names(got), len(tt.want))
			}
			for i := range got {
				if got[i].Tool.Name != tt.want[i].Tool.Name || math.Abs(got[i].Score-tt.want[i].Score) > 1e-12 {
					t.Errorf("hit %d = %s %.15f, want %s %.15f", i, got[i].Tool.Name, got[i].Score, tt.want[i].Tool.Name, tt.want[i].Score)
				}
			}
		})
	}
}

func TestSearchIsDeterministic(t *testing.T) {
	tools := []Tool{
		tool("b__echo", "Echo a message"),
		tool("a__echo", "Echo a message"),
		tool("c__echo", "Echo a message"),
		tool("c__add", "Add two numbers"),
	}
	reversed := slices.Clone(tools)
	slices.Reverse(reversed)
	t.Run("equal scores are ordered by name", func(t *testing.T) {
		got := names(Build(tools).Search("echo message", 5))
		if want := []string{"a__echo", "b__echo", "c__echo"}; !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("the listing order does not change the answer", func(t *testing.T) {
		a, b := Build(tools).Search("echo add", 5), Build(reversed).Search("echo add", 5)
		if !slices.EqualFunc(a, b, func(x, y Hit) bool { return x.Tool.Name == y.Tool.Name && x.Score == y.Score }) {
			t.Errorf("%v != %v", names(a), names(b))
		}
	})
	t.Run("limit cuts the ranking", func(t *testing.T) {
		if got := names(Build(tools).Search("echo", 2)); !slices.Equal(got, []string{"a__echo", "b__echo"}) {
			t.Errorf("got %q", got)
		}
	})
	t.Run("a second tool of the same name is dropped", func(t *testing.T) {
		ix := Build(append(slices.Clone(tools), tool("a__echo", "another echo")))
		if ix.Len() != 4 {
			t.Errorf("indexed %d tools, want 4", ix.Len())
		}
	})
	t.Run("an empty index and a zero limit find nothing", func(t *testing.T) {
		if got := Build(nil).Search("echo", 5); len(got) != 0 {
			t.Errorf("empty index found %v", names(got))
		}
		if got := Build(tools).Search("echo", 0); len(got) != 0 {
			t.Errorf("limit 0 found %v", names(got))
		}
	})
}

func TestParseTool(t *testing.T) {
	got, err := ParseTool(json.RawMessage(`{"name":"get-sum","title":"Sum","description":"Adds","inputSchema":{"type":"object","properties":{"b":{},"a":{}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "get-sum" || got.Description != "Sum. Adds" || !slices.Equal(got.Params, []string{"a", "b"}) {
		t.Errorf("got %+v", got)
	}
	for _, bad := range []string{`{"description":"no name"}`, `[1]`, `{"name":7}`} {
		if _, err := ParseTool(json.RawMessage(bad)); err == nil {
			t.Errorf("ParseTool(%s) succeeded", bad)
		}
	}
}

func TestCacheFollowsTheListing(t *testing.T) {
	c := NewCache(2)
	echo := json.RawMessage(`{"name":"a__echo","description":"Echo"}`)
	add := json.RawMessage(`{"name":"a__add","description":"Add"}`)
	first := c.Index([]json.RawMessage{echo, add})
	t.Run("the same listing reuses the index", func(t *testing.T) {
		if c.Index([]json.RawMessage{echo, add}) != first || first.Len() != 2 {
			t.Error("rebuilt")
		}
	})
	t.Run("another order answers the same", func(t *testing.T) {
		a, b := first.Search("echo add", 5), c.Index([]json.RawMessage{add, echo}).Search("echo add", 5)
		if !slices.EqualFunc(a, b, func(x, y Hit) bool { return x.Tool.Name == y.Tool.Name && x.Score == y.Score }) {
			t.Errorf("%v != %v", names(a), names(b))
		}
	})
	t.Run("a changed definition is a new index", func(t *testing.T) {
		ix := c.Index([]json.RawMessage{json.RawMessage(`{"name":"a__echo","description":"Echo, now exfiltrating"}`), add})
		if ix == first || len(ix.Search("exfiltrating", 5)) != 1 {
			t.Error("the index did not follow the change")
		}
	})
	t.Run("a tool gone from the listing is gone from the index", func(t *testing.T) {
		if got := names(c.Index([]json.RawMessage{add}).Search("echo add", 5)); !slices.Equal(got, []string{"a__add"}) {
			t.Errorf("got %q", got)
		}
	})
	t.Run("items that are no tool are left out", func(t *testing.T) {
		if n := c.Index([]json.RawMessage{echo, json.RawMessage(`{"description":"nameless"}`), json.RawMessage(`7`)}).Len(); n != 1 {
			t.Errorf("indexed %d tools, want 1", n)
		}
	})
	t.Run("the least recently used index is evicted", func(t *testing.T) {
		if c.Index([]json.RawMessage{echo, add}) == first {
			t.Error("an index beyond the cache's size was kept")
		}
	})
}

// TestCacheBuildsAListingOnceForConcurrentSearches: while one search
// builds a listing's index, seven more searches of it wait for that
// build instead of building their own (the first build is held until all
// seven wait: a second build would block on the held parse and the test
// would never end).
func TestCacheBuildsAListingOnceForConcurrentSearches(t *testing.T) {
	c := NewCache(2)
	items := make([]json.RawMessage, 50)
	for i := range items {
		items[i], _ = json.Marshal(map[string]any{"name": fmt.Sprintf("c__tool_%03d", i), "description": "does thing number " + fmt.Sprint(i)})
	}
	const others = 7
	var waiters sync.WaitGroup
	waiters.Add(others)
	c.waiting = waiters.Done
	var parses sync.Mutex
	parsed, started := 0, make(chan struct{})
	c.parse = func(item json.RawMessage) (Tool, error) {
		parses.Lock()
		parsed++
		first := parsed == 1
		parses.Unlock()
		if first {
			close(started)
			waiters.Wait() // hold the build until every other search waits
		}
		return ParseTool(item)
	}
	got := make([]*Index, others+1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); got[0] = c.Index(items) }()
	<-started
	for i := 1; i <= others; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = c.Index(items) }()
	}
	wg.Wait()
	for _, ix := range got {
		if ix != got[0] || ix.Len() != len(items) {
			t.Fatalf("searches got different indexes or lost tools (%d)", ix.Len())
		}
	}
	if parsed != len(items) {
		t.Errorf("parsed %d items, want %d: the listing was built more than once", parsed, len(items))
	}
}
