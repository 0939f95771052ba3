package auth

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
)

// headerProvider claims headers starting with prefix; a header equal to
// prefix+"bad" is refused, any other yields user.
type headerProvider struct {
	name, prefix, user string
	roles              []string
}

var errBadCredential = errors.New("bad credential")

func (p headerProvider) Name() string { return p.name }

func (p headerProvider) AuthenticateHeader(_ context.Context, h []byte) (Principal, error) {
	switch {
	case !bytes.HasPrefix(h, []byte(p.prefix)):
		return Principal{}, ErrNotMine
	case string(h) == p.prefix+"bad":
		return Principal{}, errBadCredential
	}
	return Principal{User: p.user, Roles: p.roles, System: true}, nil
}

func (p headerProvider) Challenge(path string) string {
	if p.name != "oauth" {
		return ""
	}
	return `Bearer resource_metadata="https://gw/.well-known/oauth-protected-resource` + path + `"`
}

func TestProviders(t *testing.T) {
	dir := &memDir{users: map[string]*User{"carol": {ID: "carol"}, "dave": {ID: "dave", Disabled: true}},
		roles: map[string][]string{"carol": {RoleAdmin}}}
	a := New(HashToken("the-owner-token-123"), "", dir).WithProviders(
		headerProvider{name: "oauth", prefix: "Bearer eyJ", user: "carol"},
		headerProvider{name: "plugin:ldap", prefix: "Basic ", user: "erin", roles: []string{RoleMember}},
	)
	tests := []struct {
		name, header string
		wantUser     string
		wantRoles    []string
		wantProvider string
		wantErr      error
	}{
		{name: "first provider, directory roles", header: "Bearer eyJhbGc", wantUser: "carol", wantRoles: []string{RoleAdmin}, wantProvider: "oauth"},
		{name: "provider's own roles when the directory has none", header: "Basic ZXJpbjpw", wantUser: "erin", wantRoles: []string{RoleMember}, wantProvider: "plugin:ldap"},
		{name: "a claimed credential refused is final", header: "Bearer eyJbad", wantErr: errBadCredential},
		{name: "no provider claims it", header: "Bearer somethingelse", wantErr: ErrInvalidToken},
		{name: "an API token is never offered to providers", header: "Bearer " + TokenPrefix + "nope", wantErr: ErrInvalidToken},
		{name: "owner token still first", header: "Bearer the-owner-token-123", wantUser: OwnerUser, wantRoles: []string{RoleOwner}},
		{name: "unknown scheme nobody claims", header: "Digest x", wantErr: ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.Authenticate(context.Background(), []byte(tt.header), false)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.User != tt.wantUser || !slices.Equal(got.Roles, tt.wantRoles) || got.Provider != tt.wantProvider || got.System {
				t.Fatalf("got %+v", got)
			}
		})
	}
	// A provider vouching for a user the directory disabled.
	only := New(HashToken("x-owner-token-123"), "", dir).WithProviders(headerProvider{name: "p", prefix: "Basic ", user: "dave"})
	if _, err := only.Authenticate(context.Background(), []byte("Basic ZGF2ZQ"), false); !errors.Is(err, ErrUserDisabled) {
		t.Fatalf("disabled user through a provider: err = %v", err)
	}
	if got := a.Challenge("/mcp/x"); got != `Bearer resource_metadata="https://gw/.well-known/oauth-protected-resource/mcp/x"` {
		t.Fatalf("challenge = %q", got)
	}
	if got := New(HashToken("x-owner-token-123"), "", dir).Challenge("/mcp"); got != `Bearer realm="gatehouse"` {
		t.Fatalf("default challenge = %q", got)
	}
	carol, _ := a.Authenticate(context.Background(), []byte("Bearer eyJhbGc"), false)
	dir.roles["carol"] = []string{RoleMember}
	if r := a.Refresh(carol); r.Provider != "oauth" || !slices.Equal(r.Roles, []string{RoleMember}) {
		t.Fatalf("refresh = %+v", r)
	}
}
