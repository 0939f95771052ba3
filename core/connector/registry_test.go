package connector

import (
	"strings"
	"testing"
)

func TestRegistrySearch(t *testing.T) {
	r := NewRegistry([]*Connector{
		{Slug: "github", Name: "GitHub", Description: "Issues and Pull Requests", Status: StatusActive, Transport: TransportStreamableHTTP, Hosting: HostingHosted},
		{Slug: "files", Name: "Files", Description: "The shared drive", Status: StatusDisabled, Transport: TransportSTDIO, Hosting: HostingLocal},
		{Slug: "wiki", Name: "Wiki", Description: "Team pages", Status: StatusDraft, Transport: TransportSSE, Hosting: HostingHosted, Owner: "ada"},
	})
	slugs := func(cs []*Connector) string {
		var s []string
		for _, c := range cs {
			s = append(s, c.Slug)
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		name string
		f    Filter
		want string
	}{
		{"everything, sorted by slug", Filter{}, "files,github,wiki"},
		{"name, case-insensitive", Filter{Query: "GITHUB"}, "github"},
		{"description", Filter{Query: "pull req"}, "github"},
		{"slug", Filter{Query: "wik"}, "wiki"},
		{"no match", Filter{Query: "nothing"}, ""},
		{"a query does not match across fields", Filter{Query: "files the"}, ""},
		{"status", Filter{Status: StatusDisabled}, "files"},
		{"transport", Filter{Transport: TransportSSE}, "wiki"},
		{"hosting", Filter{Hosting: HostingLocal}, "files"},
		{"combined", Filter{Hosting: HostingHosted, Query: "team"}, "wiki"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := slugs(r.Search(tc.f, nil)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("visibility applies", func(t *testing.T) {
		got := slugs(r.Search(Filter{}, func(c *Connector) bool { return c.VisibleTo("bob", nil) }))
		if got != "files,github" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("writes show up in the next search", func(t *testing.T) {
		r.Put(&Connector{Slug: "alpha", Name: "Alpha", Status: StatusActive})
		r.Remove("github")
		if got := slugs(r.Search(Filter{}, nil)); got != "alpha,files,wiki" {
			t.Errorf("got %q", got)
		}
	})
}
