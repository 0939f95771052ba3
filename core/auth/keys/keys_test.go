package keys_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-mcp/gatehouse/core/auth/keys"
	"github.com/gatehouse-mcp/gatehouse/core/secret"
	"github.com/gatehouse-mcp/gatehouse/core/store"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// sealCheck wraps the real store and records every Put that was not sealed.
type sealCheck struct {
	*store.OAuthRepo
	mu       sync.Mutex
	unsealed []string
}

func (s *sealCheck) Put(ctx context.Context, kind, id string, v []byte, ttl time.Duration, sealed bool) error {
	if !sealed {
		s.mu.Lock()
		s.unsealed = append(s.unsealed, kind+"/"+id)
		s.mu.Unlock()
	}
	return s.OAuthRepo.Put(ctx, kind, id, v, ttl, sealed)
}

func newStore(t *testing.T) *sealCheck {
	t.Helper()
	box, err := secret.New(bytes.Repeat([]byte{7}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.OpenInMemory(box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &sealCheck{OAuthRepo: s.OAuth()}
}

type testClaims struct {
	jwt.Claims
	Scope string `json:"scope"`
}

func open(t *testing.T, st keys.Store, c *clock, purpose string, alg jose.SignatureAlgorithm) *keys.Ring {
	t.Helper()
	r, err := keys.Open(context.Background(), st, keys.Config{
		Purpose: purpose, Algorithm: alg, Now: c.Now,
		RotateAfter: 24 * time.Hour, VerifyFor: time.Hour,
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return r
}

func sign(t *testing.T, r *keys.Ring, typ string) string {
	t.Helper()
	tok, err := r.Sign(typ, testClaims{Claims: jwt.Claims{Subject: "ann", Issuer: "https://gw"}, Scope: "mcp"})
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok
}

func TestRingSignsAndVerifies(t *testing.T) {
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.EdDSA} {
		t.Run(string(alg)+" tokens verify and carry their claims, kid and type", func(t *testing.T) {
			c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			r := open(t, newStore(t), c, "oauth-access", alg)
			tok := sign(t, r, "at+jwt")
			var got testClaims
			if err := r.Verify(tok, "at+jwt", &got); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.Subject != "ann" || got.Scope != "mcp" {
				t.Fatalf("claims = %+v", got)
			}
			parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{alg})
			if err != nil {
				t.Fatal(err)
			}
			if parsed.Headers[0].KeyID != r.CurrentKeyID() || parsed.Headers[0].ExtraHeaders[jose.HeaderType] != "at+jwt" {
				t.Fatalf("headers = %+v", parsed.Headers[0])
			}
		})
	}
}

func TestRingRefuses(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st := newStore(t)
	r := open(t, st, c, "oauth-access", "")
	other := open(t, st, c, "identity-forward", "")
	good := sign(t, r, "at+jwt")
	parts := strings.Split(good, ".")
	flipped := []byte(parts[2])
	if flipped[5] == 'A' {
		flipped[5] = 'B'
	} else {
		flipped[5] = 'A'
	}
	hmacKey := bytes.Repeat([]byte{1}, 32)
	hs, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: hmacKey},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", r.CurrentKeyID()))
	hsTok, _ := jwt.Signed(hs).Claims(jwt.Claims{Subject: "mallory"}).Serialize()
	unsigned := base64URL(`{"alg":"none","typ":"at+jwt","kid":"`+r.CurrentKeyID()+`"}`) + "." + base64URL(`{"sub":"mallory"}`) + "."

	cases := []struct {
		name  string
		ring  *keys.Ring
		token string
		typ   string
		want  error
	}{
		{"a token whose signature was altered", r, parts[0] + "." + parts[1] + "." + string(flipped), "at+jwt", keys.ErrBadToken},
		{"a token whose claims were altered", r, parts[0] + "." + base64URL(`{"sub":"mallory"}`) + "." + parts[2], "at+jwt", keys.ErrBadToken},
		{"a token of another purpose's ring", other, good, "at+jwt", keys.ErrUnknownKey},
		{"a token of the wrong type", r, good, "JWT", keys.ErrBadToken},
		{"an HMAC token naming the ring's key id", r, hsTok, "at+jwt", keys.ErrBadToken},
		{"an unsigned alg=none token", r, unsigned, "at+jwt", keys.ErrBadToken},
		{"garbage", r, "not.a.jwt", "", keys.ErrBadToken},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			var got testClaims
			err := tc.ring.Verify(tc.token, tc.typ, &got)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			if got.Subject != "" {
				t.Fatalf("claims decoded from a refused token: %+v", got)
			}
		})
	}
}

func TestRingRotation(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st := newStore(t)
	r := open(t, st, c, "identity-forward", "")
	first := r.CurrentKeyID()
	oldTok := sign(t, r, "")

	t.Run("keys are stored sealed and a reopened ring has the same key", func(t *testing.T) {
		if len(st.unsealed) != 0 {
			t.Fatalf("unsealed puts: %v", st.unsealed)
		}
		again := open(t, st, c, "identity-forward", "")
		if again.CurrentKeyID() != first {
			t.Fatalf("reopened ring's key %s, want %s", again.CurrentKeyID(), first)
		}
		if err := again.Verify(oldTok, "", &testClaims{}); err != nil {
			t.Fatalf("reopened ring refuses its own token: %v", err)
		}
	})

	t.Run("Maintain does nothing before the key is due", func(t *testing.T) {
		c.Add(23 * time.Hour)
		rotated, err := r.Maintain(ctx)
		if err != nil || rotated || r.CurrentKeyID() != first {
			t.Fatalf("Maintain = %v, %v; key %s", rotated, err, r.CurrentKeyID())
		}
	})

	t.Run("a key past its age is rotated and the old one still verifies", func(t *testing.T) {
		c.Add(time.Hour)
		rotated, err := r.Maintain(ctx)
		if err != nil || !rotated || r.CurrentKeyID() == first {
			t.Fatalf("Maintain = %v, %v; key %s", rotated, err, r.CurrentKeyID())
		}
		if err := r.Verify(oldTok, "", &testClaims{}); err != nil {
			t.Fatalf("old token refused right after rotation: %v", err)
		}
		if ids := jwksIDs(t, r.JWKS()); len(ids) != 2 || ids[0] != r.CurrentKeyID() || ids[1] != first {
			t.Fatalf("JWKS ids = %v, want current then %s", ids, first)
		}
	})

	t.Run("a verifier holding only the JWKS checks tokens of both keys", func(t *testing.T) {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(r.JWKS(), &set); err != nil {
			t.Fatal(err)
		}
		for _, k := range set.Keys {
			if !k.IsPublic() {
				t.Fatalf("JWKS publishes a private key: %s", k.KeyID)
			}
		}
		for _, tok := range []string{oldTok, sign(t, r, "")} {
			parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
			if err != nil {
				t.Fatal(err)
			}
			ks := set.Key(parsed.Headers[0].KeyID)
			if len(ks) != 1 {
				t.Fatalf("JWKS has no key %s", parsed.Headers[0].KeyID)
			}
			var cl jwt.Claims
			if err := parsed.Claims(ks[0].Key, &cl); err != nil || cl.Subject != "ann" {
				t.Fatalf("verify with JWKS: %v, %+v", err, cl)
			}
		}
	})

	t.Run("the old key is dropped after its verification window", func(t *testing.T) {
		c.Add(time.Hour + time.Second)
		if _, err := r.Maintain(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.Verify(oldTok, "", &testClaims{}); !errors.Is(err, keys.ErrUnknownKey) {
			t.Fatalf("old token after its window: %v, want ErrUnknownKey", err)
		}
		if ids := jwksIDs(t, r.JWKS()); len(ids) != 1 {
			t.Fatalf("JWKS ids = %v, want only the current key", ids)
		}
		again := open(t, st, c, "identity-forward", "")
		if ids := jwksIDs(t, again.JWKS()); len(ids) != 1 || ids[0] != r.CurrentKeyID() {
			t.Fatalf("reopened JWKS ids = %v", ids)
		}
	})

	t.Run("Rotate on demand makes a new current key", func(t *testing.T) {
		before := r.CurrentKeyID()
		if err := r.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		if r.CurrentKeyID() == before {
			t.Fatal("Rotate kept the key")
		}
	})
}

func TestOpenRefusesBadConfig(t *testing.T) {
	st := newStore(t)
	for _, cfg := range []keys.Config{
		{Purpose: ""},
		{Purpose: "Upper"},
		{Purpose: "a/b"},
		{Purpose: "ok", Algorithm: jose.HS256},
		{Purpose: "ok", Algorithm: jose.RS256},
	} {
		if _, err := keys.Open(context.Background(), st, cfg); err == nil {
			t.Errorf("Open(%+v) accepted", cfg)
		}
	}
}

func jwksIDs(t *testing.T, doc []byte) []string {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range set.Keys {
		ids = append(ids, k.KeyID)
	}
	return ids
}

func base64URL(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
