package auth

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

var errMissing = errors.New("missing")

// memDir is an in-memory Directory.
type memDir struct {
	tokens map[string]*Token
	users  map[string]*User
	roles  map[string][]string
}

func (d *memDir) TokenByDigest(_ context.Context, digest string) (*Token, error) {
	if t, ok := d.tokens[digest]; ok {
		return t, nil
	}
	return nil, errMissing
}

func (d *memDir) User(_ context.Context, id string) (*User, error) {
	if u, ok := d.users[id]; ok {
		return u, nil
	}
	return nil, errMissing
}

func (d *memDir) Roles(user string) []string { return d.roles[user] }
func (d *memDir) IsNotFound(err error) bool  { return errors.Is(err, errMissing) }

func TestAuthenticate(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	dir := &memDir{tokens: map[string]*Token{}, users: map[string]*User{
		"alice": {ID: "alice"}, "bob": {ID: "bob", Disabled: true},
	}, roles: map[string][]string{"alice": {RoleMember}, "owner": {RoleOwner}, "local": {RoleAuditor}}}
	issue := func(user string, expires, revoked *time.Time) string {
		tok, d := NewToken()
		dir.tokens[DigestHex(d)] = &Token{ID: user + "-tok", User: user, Digest: DigestHex(d), ExpiresAt: expires, RevokedAt: revoked}
		return tok
	}
	aliceTok := issue("alice", &future, nil)
	expiredTok := issue("alice", &past, nil)
	revokedTok := issue("alice", nil, &past)
	bobTok := issue("bob", nil, nil)
	ghostTok := issue("ghost", nil, nil)
	unknownTok, _ := NewToken()

	a := New(HashToken("the-owner-token-123"), "local", dir)
	a.now = func() time.Time { return now }
	strict := New(HashToken("the-owner-token-123"), "", nil)
	tests := []struct {
		name      string
		auth      *Authenticator
		header    string
		anonymous bool
		wantUser  string
		wantRoles []string
		wantErr   error
	}{
		{"the owner token authenticates the owner", a, "Bearer the-owner-token-123", false, "owner", []string{RoleOwner}, nil},
		{"the scheme is case-insensitive", a, "bearer the-owner-token-123", false, "owner", []string{RoleOwner}, nil},
		{"the owner token works without a directory", strict, "Bearer the-owner-token-123", false, "owner", []string{RoleOwner}, nil},
		{"a wrong token is refused", a, "Bearer the-owner-token-124", true, "", nil, ErrInvalidToken},
		{"a token prefix is refused", a, "Bearer the-owner-token-12", true, "", nil, ErrInvalidToken},
		{"an API token authenticates its user with their roles", a, "Bearer " + aliceTok, false, "alice", []string{RoleMember}, nil},
		{"an unknown API token is refused", a, "Bearer " + unknownTok, false, "", nil, ErrInvalidToken},
		{"an expired API token is refused as expired", a, "Bearer " + expiredTok, false, "", nil, ErrTokenExpired},
		{"a revoked API token is refused as revoked", a, "Bearer " + revokedTok, false, "", nil, ErrTokenRevoked},
		{"a disabled user's token is refused", a, "Bearer " + bobTok, false, "", nil, ErrUserDisabled},
		{"a deleted user's token is refused", a, "Bearer " + ghostTok, false, "", nil, ErrInvalidToken},
		{"API tokens need a directory", strict, "Bearer " + aliceTok, false, "", nil, ErrInvalidToken},
		{"a missing header is anonymous where allowed, with the user's roles", a, "", true, "local", []string{RoleAuditor}, nil},
		{"anonymous without bound roles is a member", New(HashToken("x"), "anon", nil), "", true, "anon", []string{RoleMember}, nil},
		{"a missing header is refused where anonymity is not allowed", a, "", false, "", nil, ErrNoCredentials},
		{"a missing header is refused when anonymous mode is off", strict, "", true, "", nil, ErrNoCredentials},
		{"a sent but malformed header is never anonymous", a, "Basic dXNlcjpwYXNz", true, "", nil, ErrNoCredentials},
		{"an empty bearer is refused", a, "Bearer   ", true, "", nil, ErrNoCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.auth.Authenticate(context.Background(), []byte(tc.header), tc.anonymous)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if p.User != tc.wantUser {
				t.Errorf("user = %q, want %q", p.User, tc.wantUser)
			}
			if !slices.Equal(p.Roles, tc.wantRoles) {
				t.Errorf("roles = %v, want %v", p.Roles, tc.wantRoles)
			}
		})
	}
}

func TestParseExpiry(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"", time.Time{}, false},
		{"720h", now.Add(720 * time.Hour), false},
		{"30d", now.Add(30 * 24 * time.Hour), false},
		{"2027-01-01T00:00:00Z", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"2020-01-01T00:00:00Z", time.Time{}, true},
		{"-5h", time.Time{}, true},
		{"0d", time.Time{}, true},
		{"3x", time.Time{}, true},
		{"1.5d", time.Time{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseExpiry(tc.in, now)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if tc.in == "" {
				if got != nil {
					t.Errorf("got %v, want no expiry", got)
				}
				return
			}
			if got == nil || !got.Equal(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRefreshAndAnonymousRoles(t *testing.T) {
	dir := &memDir{roles: map[string][]string{"alice": {RoleMember}}}
	a := New(HashToken("the-owner-token-123"), "local", dir).WithAnonymousRoles([]string{RoleAdmin})
	anon, err := a.Authenticate(context.Background(), nil, true)
	if err != nil || anon.User != "local" || !anon.HasRole(RoleAdmin) || anon.HasRole(RoleMember) {
		t.Fatalf("anonymous %+v %v", anon, err)
	}
	owner, _ := a.Authenticate(context.Background(), []byte("Bearer the-owner-token-123"), false)
	alice := Principal{User: "alice", Roles: []string{RoleMember}, TokenID: "t1"}
	system := Principal{User: "gatehouse", Roles: []string{RoleOwner}, System: true}

	dir.roles["alice"] = []string{RoleAuditor} // an admin changed alice's roles
	tests := []struct {
		name string
		in   Principal
		want []string
	}{
		{"a role change applies to a principal authenticated earlier", alice, []string{RoleAuditor}},
		{"the bootstrap owner keeps the owner role", owner, []string{RoleOwner}},
		{"the anonymous user keeps its configured roles", anon, []string{RoleAdmin}},
		{"the gateway itself is left as it is", system, []string{RoleOwner}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := a.Refresh(tt.in)
			if strings.Join(got.Roles, ",") != strings.Join(tt.want, ",") || got.User != tt.in.User || got.System != tt.in.System {
				t.Errorf("%+v, want roles %v", got, tt.want)
			}
		})
	}
}
