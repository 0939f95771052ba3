// Package toolsearch is the gateway's tool search: a small offline BM25
// index over the tools a caller may use (their names, descriptions and
// parameter names), and the two meta-tools, search_tools and call_tool,
// that an endpoint offers instead of its full tools/list when tool search
// is on. It knows nothing of sessions or policies: the endpoint builds the
// index from the listing the request chain has already narrowed for the
// caller, so a caller can only find what it may list.
package toolsearch

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/kljensen/snowball/english"
)

// BM25 parameters: the usual k1 and b (Robertson; Lucene's defaults).
const (
	k1 = 1.2
	b  = 0.75
)

// Field weights: a word of the tool's name says more about what it does
// than a word of its description; a parameter name says as much as a
// word of the description. The weights multiply term frequencies (a
// simplified BM25F with one length normalisation over the weighted
// document).
const (
	nameWeight  = 3
	descWeight  = 1
	paramWeight = 1
)

// Tool is one tool as the caller lists it.
type Tool struct {
	// Name is the name the caller calls it by (namespaced
	// "{connector}__{tool}" on the aggregate endpoint).
	Name        string
	Description string
	// Params are the property names of its input schema.
	Params []string
	// Definition is the tool object as listed (schemas included), given
	// back to the caller as it is.
	Definition json.RawMessage
}

// ParseTool reads a tools/list item. An item without a name is refused.
func ParseTool(item json.RawMessage) (Tool, error) {
	var t struct {
		Name        string `json:"name"`
		Title       string `json:"title"`
		Description string `json:"description"`
		InputSchema struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"inputSchema"`
	}
	if err := json.Unmarshal(item, &t); err != nil {
		return Tool{}, err
	}
	if t.Name == "" {
		return Tool{}, errNoName
	}
	params := make([]string, 0, len(t.InputSchema.Properties))
	for p := range t.InputSchema.Properties {
		params = append(params, p)
	}
	slices.Sort(params)
	desc := t.Description
	if t.Title != "" {
		desc = t.Title + ". " + desc
	}
	return Tool{Name: t.Name, Description: desc, Params: params, Definition: item}, nil
}

// Hit is one search result.
type Hit struct {
	Tool  Tool
	Score float64
}

// posting is one document's weighted frequency of a term.
type posting struct {
	doc int
	tf  float64
}

// Index is an immutable BM25 index over a tool set; it is safe for
// concurrent use.
type Index struct {
	tools    []Tool
	length   []float64 // weighted document lengths
	avgLen   float64
	postings map[string][]posting
}

// Build indexes tools. Tools are kept in name order (a second tool with a
// name already seen is dropped), so the index and its answers depend only
// on the tool set, not on the order it was listed in.
func Build(tools []Tool) *Index {
	sorted := slices.Clone(tools)
	slices.SortStableFunc(sorted, func(a, b Tool) int { return strings.Compare(a.Name, b.Name) })
	sorted = slices.CompactFunc(sorted, func(a, b Tool) bool { return a.Name == b.Name })
	ix := &Index{tools: sorted, length: make([]float64, len(sorted)), postings: map[string][]posting{}}
	total := 0.0
	st := stemmer{}
	for doc, t := range sorted {
		tf := map[string]float64{}
		for _, term := range st.terms(t.Name) {
			tf[term] += nameWeight
		}
		for _, term := range st.terms(t.Description) {
			tf[term] += descWeight
		}
		for _, p := range t.Params {
			for _, term := range st.terms(p) {
				tf[term] += paramWeight
			}
		}
		n := 0.0
		for _, f := range tf {
			n += f
		}
		ix.length[doc] = n
		total += n
		// Terms are appended in doc order, so each posting list is sorted.
		for term, f := range tf {
			ix.postings[term] = append(ix.postings[term], posting{doc: doc, tf: f})
		}
	}
	if len(sorted) > 0 {
		ix.avgLen = total / float64(len(sorted))
	}
	return ix
}

// Len is the number of tools indexed.
func (ix *Index) Len() int { return len(ix.tools) }

// idf is BM25's inverse document frequency in the form that is never
// negative (Lucene's): ln(1 + (N − df + 0.5) / (df + 0.5)).
func (ix *Index) idf(df int) float64 {
	n := float64(len(ix.tools))
	return math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5))
}

// Search returns up to limit tools matching query, best first; equal
// scores are ordered by name, so the answer is the same for the same
// query and tool set. A tool that shares no term with the query is not
// returned.
func (ix *Index) Search(query string, limit int) []Hit {
	if limit <= 0 || len(ix.tools) == 0 {
		return nil
	}
	terms := Terms(query)
	slices.Sort(terms)
	terms = slices.Compact(terms) // a repeated query word counts once
	scores := make([]float64, len(ix.tools))
	var touched []int
	for _, term := range terms {
		list := ix.postings[term]
		if len(list) == 0 {
			continue
		}
		idf := ix.idf(len(list))
		for _, p := range list {
			if scores[p.doc] == 0 {
				touched = append(touched, p.doc)
			}
			norm := k1 * (1 - b + b*ix.length[p.doc]/ix.avgLen)
			scores[p.doc] += idf * p.tf * (k1 + 1) / (p.tf + norm)
		}
	}
	// The best limit of the tools touched, kept sorted (a ranking of a
	// few out of thousands: no sort of them all).
	type scored struct {
		doc   int
		score float64
	}
	better := func(x, y scored) bool {
		return x.score > y.score || (x.score == y.score && x.doc < y.doc) // docs are in name order
	}
	top := make([]scored, 0, limit+1)
	for _, doc := range touched {
		c := scored{doc, scores[doc]}
		if len(top) == limit && !better(c, top[len(top)-1]) {
			continue
		}
		i := len(top)
		for i > 0 && better(c, top[i-1]) {
			i--
		}
		top = slices.Insert(top, i, c)
		if len(top) > limit {
			top = top[:limit]
		}
	}
	hits := make([]Hit, len(top))
	for i, c := range top {
		hits[i] = Hit{Tool: ix.tools[c.doc], Score: c.score}
	}
	return hits
}

// Terms splits text into index terms: words and numbers (camelCase and
// snake_case, kebab-case and dotted names are split into their words),
// lower-cased, English stop words dropped, each word stemmed with the
// Snowball English stemmer (so "issues" finds "issue").
func Terms(text string) []string { return stemmer(nil).terms(text) }

// stemmer remembers the terms of the words it has seen (a build meets
// the same few thousand words again and again); a nil stemmer remembers
// nothing.
type stemmer map[string]string

func (s stemmer) terms(text string) []string {
	var out []string
	for _, w := range words(text) {
		term, ok := s[w]
		if !ok {
			lower := strings.ToLower(w)
			if !english.IsStopWord(lower) {
				term = english.Stem(lower, false)
			}
			if s != nil {
				s[w] = term
			}
		}
		if term != "" {
			out = append(out, term)
		}
	}
	return out
}

// words splits text at every rune that is neither a letter nor a digit,
// and inside a word at a lower-to-upper case change ("getUser" → "get",
// "User"; "HTTPServer" → "HTTP", "Server").
func words(text string) []string {
	var out []string
	rs := []rune(text)
	start := -1
	for i, r := range rs {
		alnum := unicode.IsLetter(r) || unicode.IsDigit(r)
		if !alnum {
			if start >= 0 {
				out = append(out, string(rs[start:i]))
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
			continue
		}
		prev := rs[i-1]
		lowerToUpper := unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev))
		acronymEnd := unicode.IsUpper(r) && unicode.IsUpper(prev) && i+1 < len(rs) && unicode.IsLower(rs[i+1])
		if lowerToUpper || acronymEnd {
			out = append(out, string(rs[start:i]))
			start = i
		}
	}
	if start >= 0 {
		out = append(out, string(rs[start:]))
	}
	return out
}
