package connector

import (
	"fmt"
	"testing"
)

// benchRegistry holds n connectors with varied names and descriptions.
func benchRegistry(n int) *Registry {
	words := []string{"github", "postgres", "jira", "slack", "files", "billing", "search", "analytics", "crm", "wiki"}
	list := make([]*Connector, n)
	for i := range list {
		w := words[i%len(words)]
		list[i] = &Connector{
			Slug: fmt.Sprintf("%s-%05d", w, i), Name: fmt.Sprintf("%s connector %d", w, i),
			Description: fmt.Sprintf("Team %d's %s server: issues, documents and reports for project %d", i%97, w, i),
			Status:      []Status{StatusActive, StatusDisabled, StatusDraft}[i%3], Transport: TransportStreamableHTTP,
			Hosting: HostingHosted, Owner: fmt.Sprintf("user%d", i%50),
		}
	}
	return NewRegistry(list)
}

// BenchmarkSearch10k measures a query over 10 000 connectors as the admin
// API runs it (visibility check included).
func BenchmarkSearch10k(b *testing.B) {
	r := benchRegistry(10000)
	visible := func(c *Connector) bool { return c.VisibleTo("user7", []string{"member"}) }
	for _, tc := range []struct {
		name string
		f    Filter
	}{
		{"query-rare", Filter{Query: "project 4242"}},
		{"query-common", Filter{Query: "Postgres"}},
		{"query-none", Filter{Query: "no such words"}},
		{"status-only", Filter{Status: StatusActive}},
		{"everything", Filter{}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r.index() // built once, like after the first request
			var n int
			for b.Loop() {
				n = len(r.Search(tc.f, visible))
			}
			b.ReportMetric(float64(n), "matches")
		})
	}
}

// BenchmarkSearchAfterWrite10k includes rebuilding the index after a change.
func BenchmarkSearchAfterWrite10k(b *testing.B) {
	r := benchRegistry(10000)
	c := &Connector{Slug: "churn", Name: "churn", Status: StatusActive}
	for b.Loop() {
		r.Put(c)
		r.Search(Filter{Query: "postgres"}, nil)
	}
}
