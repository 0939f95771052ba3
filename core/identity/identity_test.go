package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/auth/keys"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/secret"
	"github.com/gatehouse-mcp/gatehouse/core/store"
)

// users is an in-memory Users.
type users map[string]*auth.User

var errNoUser = errors.New("no such user")

func (u users) User(_ context.Context, id string) (*auth.User, error) {
	if x, ok := u[id]; ok {
		return x, nil
	}
	return nil, errNoUser
}

func (u users) Roles(user string) []string {
	if user == "ada" {
		return []string{"admin", "member"}
	}
	return nil
}

func newRing(t *testing.T, now func() time.Time) *keys.Ring {
	t.Helper()
	box, err := secret.New(bytes.Repeat([]byte{3}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenInMemory(box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ring, err := keys.Open(context.Background(), st.OAuth(), keys.Config{Purpose: Purpose, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

// verify checks tok as an upstream would: against the published JWKS,
// with the expected issuer and audience at now.
func verify(t *testing.T, jwks []byte, tok, aud string, now time.Time) (Claims, error) {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return Claims{}, err
	}
	if typ, _ := parsed.Headers[0].ExtraHeaders[jose.HeaderType].(string); typ != TokenType {
		return Claims{}, errors.New("typ " + typ)
	}
	found := set.Key(parsed.Headers[0].KeyID)
	if len(found) != 1 {
		return Claims{}, errors.New("kid not in the JWKS")
	}
	var std jwt.Claims
	var c Claims
	if err := parsed.Claims(found[0].Key, &std, &c); err != nil {
		return Claims{}, err
	}
	err = std.ValidateWithLeeway(jwt.Expected{Issuer: "https://gw.example", AnyAudience: jwt.Audience{aud}, Time: now}, 0)
	return c, err
}

func TestHeaders(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	ring := newRing(t, func() time.Time { return now })
	dir := users{"ada": {ID: "ada", Name: "Ada", Email: "ada@example.com"}, "eve": {ID: "eve", Email: "eve@example.com\r\nX-Evil: 1"}}
	f := New(dir, ring, Options{Issuer: "https://gw.example/", Now: func() time.Time { return now }, NotFound: errNoUser})
	conn := func(mode string) *connector.Connector {
		return &connector.Connector{Slug: "crm", URL: "https://crm.example/mcp", Transport: connector.TransportStreamableHTTP,
			Advanced: connector.Advanced{Identity: connector.IdentityForward{Mode: mode}}}
	}
	tests := []struct {
		name, mode, user string
		want             map[string]string
	}{
		{"off forwards nothing", "", "ada", nil},
		{"headers carry id, email and roles", ModeHeaders, "ada", map[string]string{HeaderUser: "ada", HeaderEmail: "ada@example.com", HeaderRoles: "admin,member"}},
		{"an email that cannot be a header value is left out", ModeHeaders, "eve", map[string]string{HeaderUser: "eve", HeaderRoles: ""}},
		{"a caller without a record goes by id", ModeHeaders, "owner", map[string]string{HeaderUser: "owner", HeaderRoles: ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.Headers(context.Background(), conn(tc.mode), tc.user)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Fatalf("%s = %q, want %q (all: %v)", k, got[k], v, got)
				}
			}
		})
	}

	t.Run("stdio connectors forward nothing", func(t *testing.T) {
		c := conn(ModeHeaders)
		c.Transport = connector.TransportSTDIO
		if got, err := f.Headers(context.Background(), c, "ada"); err != nil || got != nil {
			t.Fatalf("got %v, %v", got, err)
		}
	})
	t.Run("a failing user lookup fails the request", func(t *testing.T) {
		broken := New(failingUsers{}, ring, Options{Issuer: "https://gw.example", NotFound: errNoUser})
		if _, err := broken.Headers(context.Background(), conn(ModeJWT), "ada"); err == nil || !strings.Contains(err.Error(), "look up user") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("jwt without a ring is a clear error", func(t *testing.T) {
		if _, err := New(dir, nil, Options{}).Headers(context.Background(), conn(ModeJWT), "ada"); err == nil || !strings.Contains(err.Error(), "no signing key ring") {
			t.Fatalf("err = %v", err)
		}
	})
}

type failingUsers struct{}

func (failingUsers) User(context.Context, string) (*auth.User, error) {
	return nil, errors.New("disk on fire")
}
func (failingUsers) Roles(string) []string { return nil }

func TestJWTVerifiesWithThePublishedKeysAcrossARotation(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ring := newRing(t, clock)
	f := New(users{"ada": {ID: "ada", Name: "Ada", Email: "ada@example.com"}}, ring, Options{Issuer: "https://gw.example", Now: clock, NotFound: errNoUser})
	crm := &connector.Connector{Slug: "crm", URL: "https://crm.example/mcp", Transport: connector.TransportStreamableHTTP,
		Advanced: connector.Advanced{Identity: connector.IdentityForward{Mode: ModeJWT}}}
	sign := func() string {
		h, err := f.Headers(context.Background(), crm, "ada")
		if err != nil {
			t.Fatal(err)
		}
		return h[HeaderJWT]
	}

	before := sign()
	c, err := verify(t, ring.JWKS(), before, crm.URL, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "ada" || c.Email != "ada@example.com" || strings.Join(c.Roles, ",") != "admin,member" || c.Connector != "crm" ||
		c.Expiry-c.IssuedAt != int64(DefaultTTL/time.Second) || c.ID == "" {
		t.Fatalf("claims %+v", c)
	}
	if _, err := verify(t, ring.JWKS(), before, "https://other.example/mcp", now); err == nil {
		t.Fatal("a token for crm verified for another connector's audience")
	}
	if _, err := verify(t, ring.JWKS(), before, crm.URL, now.Add(DefaultTTL+time.Second)); err == nil {
		t.Fatal("a token verified after its expiry")
	}

	oldKid := ring.CurrentKeyID()
	if err := ring.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := sign()
	jwks := ring.JWKS()
	if _, err := verify(t, jwks, after, crm.URL, now); err != nil {
		t.Fatalf("the token signed after the rotation: %v", err)
	}
	if _, err := verify(t, jwks, before, crm.URL, now); err != nil {
		t.Fatalf("a token signed before the rotation still verifies while its key is published: %v", err)
	}
	if ring.CurrentKeyID() == oldKid {
		t.Fatal("the rotation kept the key")
	}
	hdr, _ := jwt.ParseSigned(after, []jose.SignatureAlgorithm{jose.ES256})
	if hdr.Headers[0].KeyID != ring.CurrentKeyID() {
		t.Fatal("the new token is not signed with the new key")
	}
}

func BenchmarkJWTHeaders(b *testing.B) {
	box, _ := secret.New(bytes.Repeat([]byte{3}, secret.KeySize))
	st, err := store.OpenInMemory(box)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ring, err := keys.Open(context.Background(), st.OAuth(), keys.Config{Purpose: Purpose})
	if err != nil {
		b.Fatal(err)
	}
	f := New(users{"ada": {ID: "ada", Email: "ada@example.com"}}, ring, Options{Issuer: "https://gw.example"})
	crm := &connector.Connector{Slug: "crm", URL: "https://crm.example/mcp", Transport: connector.TransportStreamableHTTP,
		Advanced: connector.Advanced{Identity: connector.IdentityForward{Mode: ModeJWT}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Headers(context.Background(), crm, "ada"); err != nil {
			b.Fatal(err)
		}
	}
}
