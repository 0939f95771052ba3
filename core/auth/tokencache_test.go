package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

// genDir is a memDir that counts lookups and says when it changed.
type genDir struct {
	memDir
	gen     uint64
	lookups int
}

func (d *genDir) Generation() uint64 { return d.gen }

func (d *genDir) TokenByDigest(ctx context.Context, digest string) (*Token, error) {
	d.lookups++
	return d.memDir.TokenByDigest(ctx, digest)
}

func TestTokenLookupsAreCachedUntilTheDirectoryChanges(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	expires := now.Add(90 * time.Minute)
	dir := &genDir{memDir: memDir{tokens: map[string]*Token{}, users: map[string]*User{"alice": {ID: "alice"}},
		roles: map[string][]string{"alice": {RoleMember}}}}
	tok, d := NewToken()
	dir.tokens[DigestHex(d)] = &Token{ID: "t1", User: "alice", Digest: DigestHex(d), ExpiresAt: &expires}
	a := New(HashToken("the-owner-token-123"), "", dir)
	a.now = func() time.Time { return now }
	header := []byte("Bearer " + tok)
	auth := func() (Principal, error) { return a.Authenticate(context.Background(), header, false) }

	for range 3 {
		if p, err := auth(); err != nil || p.User != "alice" || p.TokenID != "t1" {
			t.Fatalf("%+v %v", p, err)
		}
	}
	if dir.lookups != 1 {
		t.Fatalf("%d lookups for 3 requests, want 1 (cached)", dir.lookups)
	}

	// Roles are read fresh on a cached lookup.
	dir.roles["alice"] = []string{RoleAdmin}
	if p, _ := auth(); len(p.Roles) != 1 || p.Roles[0] != RoleAdmin {
		t.Fatalf("roles %v after a role change", p.Roles)
	}

	// A revocation (any write: the generation moves) is seen at once.
	past := now.Add(-time.Second)
	dir.tokens[DigestHex(d)].RevokedAt = &past
	dir.gen++
	if _, err := auth(); !errors.Is(err, ErrTokenRevoked) {
		t.Fatalf("after a revocation: %v, want ErrTokenRevoked", err)
	}
	dir.tokens[DigestHex(d)].RevokedAt = nil
	dir.gen++
	if _, err := auth(); err != nil {
		t.Fatal(err)
	}

	// So is a disabled user.
	dir.users["alice"].Disabled = true
	dir.gen++
	if _, err := auth(); !errors.Is(err, ErrUserDisabled) {
		t.Fatalf("after disabling the user: %v", err)
	}
	dir.users["alice"].Disabled = false
	dir.gen++
	if _, err := auth(); err != nil {
		t.Fatal(err)
	}

	// Expiry is checked on every use of the cache, and entries age out.
	before := dir.lookups
	now = now.Add(tokenCacheTTL)
	if _, err := auth(); err != nil || dir.lookups != before+1 {
		t.Fatalf("after the cache TTL: %v, %d lookups (want a new one)", err, dir.lookups-before)
	}
	now = expires
	if _, err := auth(); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("at the token's expiry: %v", err)
	}

	// A directory without a generation is never cached.
	plain := New(HashToken("the-owner-token-123"), "", &dir.memDir)
	plain.now = func() time.Time { return now.Add(-time.Hour) }
	if _, err := plain.Authenticate(context.Background(), header, false); err != nil {
		t.Fatal(err)
	}
	if len(plain.tokens.entries) != 0 {
		t.Fatal("cached without a generation")
	}
}
