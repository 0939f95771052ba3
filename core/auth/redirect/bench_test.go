package redirect

import (
	"context"
	"fmt"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
)

// discardAudit drops entries (a benchmark would otherwise keep millions).
type discardAudit struct{}

func (discardAudit) Append(context.Context, *audit.Entry) error { return nil }

// hundredRules is 100 rules: 60 exact allowed, 20 allowed wildcards, 20
// blocked exact.
func hundredRules(b *testing.B) *Rules {
	b.Helper()
	r, err := New(ctx, newMemStore(), errNoKey, discardAudit{})
	if err != nil {
		b.Fatal(err)
	}
	add := func(list, uri string) {
		if _, _, err := r.Add(ctx, list, uri, "owner", ""); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 60 {
		add(ListAllowed, fmt.Sprintf("https://app%d.example.com/oauth/callback", i))
	}
	for i := range 20 {
		add(ListAllowed, fmt.Sprintf("https://*.tenant%d.example.org/cb", i))
	}
	for i := range 20 {
		add(ListBlocked, fmt.Sprintf("https://evil%d.example.net/cb", i))
	}
	return r
}

// BenchmarkDecide is one decision against 100 rules, audited (to a log in
// memory): an allowed exact URI, an allowed wildcard URI, a blocked one,
// one refused before the lists, and one already pending.
func BenchmarkDecide(b *testing.B) {
	r := hundredRules(b)
	for _, c := range []struct{ name, uri string }{
		{"exact", "https://app42.example.com/oauth/callback"},
		{"wildcard", "https://acme.tenant7.example.org/cb"},
		{"blocked", "https://evil3.example.net/cb"},
		{"refused", "https://good.com@evil.com/cb"},
		{"pending", "https://unknown.example.io/cb"},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := Request{URI: c.uri, ClientID: "https://client.example/meta.json", User: "alice", Source: "authorize"}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Decide(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheck is the matcher alone (no audit, no pending).
func BenchmarkCheck(b *testing.B) {
	r := hundredRules(b)
	b.ReportAllocs()
	for b.Loop() {
		if d := r.Check("https://acme.tenant7.example.org/cb"); d.Outcome != Allowed {
			b.Fatal(d)
		}
	}
}
