package auth

import (
	"errors"
	"testing"
)

func TestAuthenticate(t *testing.T) {
	a := New(HashToken("the-owner-token-123"), "local")
	strict := New(HashToken("the-owner-token-123"), "")
	tests := []struct {
		name      string
		auth      *Authenticator
		header    string
		anonymous bool
		wantUser  string
		wantErr   error
	}{
		{"the owner token authenticates the owner", a, "Bearer the-owner-token-123", false, "owner", nil},
		{"the scheme is case-insensitive", a, "bearer the-owner-token-123", false, "owner", nil},
		{"a wrong token is refused", a, "Bearer the-owner-token-124", true, "", ErrInvalidToken},
		{"a token prefix is refused", a, "Bearer the-owner-token-12", true, "", ErrInvalidToken},
		{"a missing header is anonymous where allowed", a, "", true, "local", nil},
		{"a missing header is refused where anonymity is not allowed", a, "", false, "", ErrNoCredentials},
		{"a missing header is refused when anonymous mode is off", strict, "", true, "", ErrNoCredentials},
		{"a sent but malformed header is never anonymous", a, "Basic dXNlcjpwYXNz", true, "", ErrNoCredentials},
		{"an empty bearer is refused", a, "Bearer   ", true, "", ErrNoCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.auth.Authenticate([]byte(tc.header), tc.anonymous)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if p.User != tc.wantUser {
				t.Errorf("user = %q, want %q", p.User, tc.wantUser)
			}
		})
	}
	t.Run("only the owner may use the admin API", func(t *testing.T) {
		owner, _ := a.Authenticate([]byte("Bearer the-owner-token-123"), false)
		anon, _ := a.Authenticate(nil, true)
		if !owner.IsAdmin() || anon.IsAdmin() {
			t.Errorf("owner admin=%v, anonymous admin=%v", owner.IsAdmin(), anon.IsAdmin())
		}
	})
}
