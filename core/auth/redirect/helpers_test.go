package redirect

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
)

var errNoKey = errors.New("no such key")

// memStore is a Store in memory; fail makes every Put fail.
type memStore struct {
	mu   sync.Mutex
	m    map[string][]byte
	fail error
}

func newMemStore() *memStore { return &memStore{m: map[string][]byte{}} }

func (s *memStore) Get(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return nil, errNoKey
	}
	return slices.Clone(v), nil
}

func (s *memStore) Put(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.m[key] = slices.Clone(value)
	return nil
}

// memAudit keeps the entries appended; fail makes Append fail.
type memAudit struct {
	mu      sync.Mutex
	entries []audit.Entry
	fail    error
}

func (a *memAudit) Append(_ context.Context, e *audit.Entry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	a.entries = append(a.entries, *e)
	return nil
}

func (a *memAudit) all() []audit.Entry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.entries)
}

// realisticRules is an organisation's lists: its apps, a wildcard over
// its own domain, native apps on loopback and a private-use scheme, an
// IDN domain, and some blocks (one under the allowed wildcard).
var realisticRules = []struct{ list, uri string }{
	{ListAllowed, "https://app.example.com/oauth/callback"},
	{ListAllowed, "https://*.example.com/cb"},
	{ListAllowed, "https://good.com/cb"},
	{ListAllowed, "https://good.com/cb?tenant=acme"},
	{ListAllowed, "https://claude.ai/api/mcp/auth_callback"},
	{ListAllowed, "http://127.0.0.1/callback"},
	{ListAllowed, "http://localhost/callback"},
	{ListAllowed, "http://[::1]/callback"},
	{ListAllowed, "com.example.app:/oauth2redirect"},
	{ListAllowed, "https://bücher.de/cb"},
	{ListBlocked, "https://evil.com/cb"},
	{ListBlocked, "https://legacy.example.com/cb"},
	{ListBlocked, "https://*.attacker.net/cb"},
}

func newTestRules(t testing.TB) (*Rules, *memStore, *memAudit) {
	t.Helper()
	st, log := newMemStore(), &memAudit{}
	r, err := New(context.Background(), st, errNoKey, log)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range realisticRules {
		if _, _, err := r.Add(context.Background(), x.list, x.uri, "owner", ""); err != nil {
			t.Fatalf("add %s %s: %v", x.list, x.uri, err)
		}
	}
	return r, st, log
}
