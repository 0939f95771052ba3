package redirect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

var ctx = context.Background()

func decide(t *testing.T, r *Rules, uri, client, user string) Decision {
	t.Helper()
	d, err := r.Decide(ctx, Request{URI: uri, ClientID: client, ClientName: client + " app", User: user, Source: "authorize"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestPendingIsOnePerNormalFormNamingWhoAsked(t *testing.T) {
	r, _, log := newTestRules(t)
	d1 := decide(t, r, "https://new.org/cb", "c1", "alice")
	d2 := decide(t, r, "HTTPS://NEW.ORG:443/cb", "c2", "bob")
	d3 := decide(t, r, "https://new.org/cb", "c1", "alice")
	if d1.Outcome != Pending || d1.PendingID == "" || d2.PendingID != d1.PendingID || d3.PendingID != d1.PendingID {
		t.Fatalf("decisions %+v %+v %+v: want one pending approval", d1, d2, d3)
	}
	list := r.Pending()
	if len(list) != 1 {
		t.Fatalf("%d pending approvals, want 1", len(list))
	}
	p := list[0]
	if p.URI != "https://new.org/cb" || p.Raw != "https://new.org/cb" || p.Count != 3 || len(p.Askers) != 2 ||
		p.Askers[0].ClientID != "c1" || p.Askers[0].User != "alice" || p.Askers[1].ClientID != "c2" || p.Askers[1].User != "bob" {
		t.Fatalf("pending %+v", p)
	}
	pauses := 0
	for _, e := range log.all() {
		if e.Action == ActionPause {
			pauses++
		}
	}
	if pauses != 3 {
		t.Fatalf("%d pauses audited, want 3", pauses)
	}
}

func TestAskersAreBounded(t *testing.T) {
	r, _, _ := newTestRules(t)
	for i := range MaxAskers + 5 {
		decide(t, r, "https://new.org/cb", fmt.Sprintf("c%d", i), "")
	}
	p := r.Pending()[0]
	if len(p.Askers) != MaxAskers || p.Count != MaxAskers+5 {
		t.Fatalf("%d askers, count %d", len(p.Askers), p.Count)
	}
}

func TestPendingIsCappedAndThenBlocks(t *testing.T) {
	r, _, log := newTestRules(t)
	for i := range MaxPending {
		if d := decide(t, r, fmt.Sprintf("https://n%d.org/cb", i), "c", ""); d.Outcome != Pending {
			t.Fatalf("URI %d: %+v", i, d)
		}
	}
	d := decide(t, r, "https://one-too-many.org/cb", "c", "")
	if d.Outcome != Blocked || !strings.Contains(d.Reason, "already wait") {
		t.Fatalf("past the cap: %+v", d)
	}
	if len(r.Pending()) != MaxPending {
		t.Fatalf("%d pending", len(r.Pending()))
	}
	if e := log.all()[len(log.all())-1]; e.Action != ActionBlock {
		t.Fatalf("last entry %+v", e)
	}
	// A URI already pending still pauses.
	if d := decide(t, r, "https://n1.org/cb", "c2", ""); d.Outcome != Pending {
		t.Fatalf("known pending URI past the cap: %+v", d)
	}
}

func TestApproveAllowsAndDenyBlocks(t *testing.T) {
	r, _, _ := newTestRules(t)
	a := decide(t, r, "https://approve.org/cb", "c", "alice")
	b := decide(t, r, "https://deny.org/cb", "c", "alice")
	rule, err := r.Approve(ctx, a.PendingID, "admin", "known partner")
	if err != nil {
		t.Fatal(err)
	}
	if rule.List != ListAllowed || rule.URI != "https://approve.org/cb" || rule.Approval != a.PendingID || rule.CreatedBy != "admin" || rule.Note != "known partner" {
		t.Fatalf("rule %+v", rule)
	}
	if rule, err = r.Deny(ctx, b.PendingID, "admin", ""); err != nil || rule.List != ListBlocked {
		t.Fatalf("deny: %+v %v", rule, err)
	}
	if len(r.Pending()) != 0 {
		t.Fatalf("still pending: %+v", r.Pending())
	}
	if d := decide(t, r, "https://approve.org/cb", "c2", "bob"); d.Outcome != Allowed {
		t.Fatalf("approved URI: %+v", d)
	}
	if d := decide(t, r, "https://deny.org/cb", "c2", "bob"); d.Outcome != Blocked || d.Rule != "https://deny.org/cb" {
		t.Fatalf("denied URI: %+v", d)
	}
	if _, err := r.Approve(ctx, a.PendingID, "admin", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("approving twice: %v", err)
	}
}

func TestAddingARuleResolvesThePendingItDecides(t *testing.T) {
	r, _, _ := newTestRules(t)
	covered := decide(t, r, "https://a.partner.org/cb", "c", "")
	other := decide(t, r, "https://b.other.org/cb", "c", "")
	_, resolved, err := r.Add(ctx, ListAllowed, "https://*.partner.org/cb", "admin", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(resolved) != 1 || resolved[0] != covered.PendingID {
		t.Fatalf("resolved %v, want [%s]", resolved, covered.PendingID)
	}
	if p := r.Pending(); len(p) != 1 || p[0].ID != other.PendingID {
		t.Fatalf("pending %+v", p)
	}
}

func TestBlockedAlwaysWins(t *testing.T) {
	r, _, _ := newTestRules(t)
	// A blocked wildcard over an exactly allowed URI.
	if _, _, err := r.Add(ctx, ListBlocked, "https://*.example.com/oauth/callback", "admin", ""); err != nil {
		t.Fatal(err)
	}
	d := decide(t, r, "https://app.example.com/oauth/callback", "c", "")
	if d.Outcome != Blocked || d.Rule != "https://*.example.com/oauth/callback" {
		t.Fatalf("got %+v", d)
	}
	if _, _, err := r.Add(ctx, ListAllowed, "https://*.EXAMPLE.com/oauth/callback", "admin", ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("the same pattern on both lists: %v", err)
	}
}

func TestRuleChanges(t *testing.T) {
	r, _, _ := newTestRules(t)
	tests := []struct {
		name, list, uri, note string
		want                  error
	}{
		{"an unknown list", "greylist", "https://x.org/cb", "", ErrInvalidRule},
		{"an unsafe URI", ListAllowed, "http://x.org/cb", "", ErrInvalidRule},
		{"a blocked list entry that is always blocked anyway", ListBlocked, "javascript:x", "", ErrInvalidRule},
		{"a duplicate in another spelling", ListAllowed, "HTTPS://GOOD.COM:443/cb", "", ErrConflict},
		{"a note too long", ListAllowed, "https://x.org/cb", strings.Repeat("n", 1001), ErrInvalidRule},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(r.List(""))
			if _, _, err := r.Add(ctx, tt.list, tt.uri, "admin", tt.note); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if len(r.List("")) != before {
				t.Fatal("a refused change changed the lists")
			}
		})
	}
	t.Run("removing a rule takes effect", func(t *testing.T) {
		var id string
		for _, x := range r.List(ListAllowed) {
			if x.URI == "https://good.com/cb" {
				id = x.ID
			}
		}
		if _, err := r.Remove(ctx, id); err != nil {
			t.Fatal(err)
		}
		if d := r.Check("https://good.com/cb"); d.Outcome != Pending {
			t.Fatalf("after removal: %+v", d)
		}
		if _, err := r.Remove(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("removing twice: %v", err)
		}
	})
}

func TestListsAndPendingSurviveARestart(t *testing.T) {
	r, st, log := newTestRules(t)
	p := decide(t, r, "https://new.org/cb", "c", "alice")
	again, err := New(ctx, st, errNoKey, log)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.List("")) != len(realisticRules) || len(again.Pending()) != 1 || again.Pending()[0].ID != p.PendingID {
		t.Fatalf("reloaded %d rules, pending %+v", len(again.List("")), again.Pending())
	}
	if d := again.Check("https://foo.example.com/cb"); d.Outcome != Allowed {
		t.Fatalf("reloaded lists: %+v", d)
	}
}

func TestFailuresLoseNothing(t *testing.T) {
	t.Run("a failed store write changes nothing", func(t *testing.T) {
		r, st, _ := newTestRules(t)
		st.fail = errors.New("disk full")
		if _, _, err := r.Add(ctx, ListAllowed, "https://x.org/cb", "admin", ""); err == nil {
			t.Fatal("add succeeded on a failing store")
		}
		if d := r.Check("https://x.org/cb"); d.Outcome != Pending {
			t.Fatalf("a failed add took effect: %+v", d)
		}
		if _, err := r.Decide(ctx, Request{URI: "https://x.org/cb"}); err == nil {
			t.Fatal("a pause that could not be recorded was reported")
		}
		if len(r.Pending()) != 0 {
			t.Fatal("a failed pending write is in memory")
		}
	})
	t.Run("an unaudited decision is an error", func(t *testing.T) {
		r, _, log := newTestRules(t)
		log.fail = errors.New("audit down")
		if _, err := r.Decide(ctx, Request{URI: "https://good.com/cb"}); !errors.Is(err, ErrAudit) {
			t.Fatalf("got %v, want ErrAudit", err)
		}
	})
	t.Run("a corrupt stored document is an error at start", func(t *testing.T) {
		st := newMemStore()
		st.m[rulesKey] = []byte("{not json")
		if _, err := New(ctx, st, errNoKey, &memAudit{}); err == nil {
			t.Fatal("loaded a corrupt document")
		}
	})
	t.Run("a stored rule that no longer parses is an error at start", func(t *testing.T) {
		st := newMemStore()
		st.m[rulesKey] = []byte(`[{"id":"x","list":"allowed","uri":"http://evil.com/cb"}]`)
		if _, err := New(ctx, st, errNoKey, &memAudit{}); !errors.Is(err, ErrInvalidRule) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestConcurrentDecisionsMakeOnePending(t *testing.T) {
	r, _, log := newTestRules(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = r.Decide(ctx, Request{URI: "https://race.org/cb", ClientID: fmt.Sprint(i)})
		}()
	}
	wg.Wait()
	if p := r.Pending(); len(p) != 1 || p[0].Count != 16 {
		t.Fatalf("pending %+v", p)
	}
	if n := len(log.all()); n != 16 {
		t.Fatalf("%d audit entries, want 16", n)
	}
}
