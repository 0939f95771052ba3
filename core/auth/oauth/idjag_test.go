package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
)

// testIdP is an enterprise identity provider: it publishes a key set
// over TLS and signs ID-JAGs; rotate replaces its signing key.
type testIdP struct {
	t      *testing.T
	issuer string
	jwks   string

	mu      sync.Mutex
	keys    []jose.JSONWebKey // private; the last one signs
	fetches int
}

func newTestIdP(t *testing.T) (*testIdP, DocumentFetcher) {
	t.Helper()
	idp := &testIdP{t: t}
	idp.rotate()
	host, pool := cimdHost(t, func(w http.ResponseWriter, r *http.Request) {
		idp.mu.Lock()
		defer idp.mu.Unlock()
		idp.fetches++
		var pub jose.JSONWebKeySet
		for _, k := range idp.keys {
			pub.Keys = append(pub.Keys, k.Public())
		}
		_ = json.NewEncoder(w).Encode(pub)
	})
	idp.issuer = host.URL
	idp.jwks = host.URL + "/jwks"
	return idp, NewFetcher((&net.Dialer{}).DialContext, pool, CIMDConfig{Timeout: time.Minute, MaxBytes: 64 << 10})
}

func (idp *testIdP) rotate() {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		idp.t.Fatal(err)
	}
	idp.mu.Lock()
	idp.keys = append(idp.keys, jose.JSONWebKey{Key: k, KeyID: randomToken(6), Algorithm: string(jose.ES256), Use: "sig"})
	idp.mu.Unlock()
}

// sign makes an ID-JAG with claims (typ header typ).
func (idp *testIdP) sign(typ string, claims map[string]any) string {
	idp.t.Helper()
	idp.mu.Lock()
	k := idp.keys[len(idp.keys)-1]
	idp.mu.Unlock()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader(jose.HeaderKey("kid"), k.KeyID))
	if err != nil {
		idp.t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		idp.t.Fatal(err)
	}
	return tok
}

func TestIdentityAssertionGrant(t *testing.T) {
	idp, fetchKeys := newTestIdP(t)
	f := newFixture(t, func(c *Config, d *Deps) {
		c.EnterpriseIdPs = []EnterpriseIdP{{Issuer: idp.issuer, JWKSURI: idp.jwks}}
		d.FetchKeys = fetchKeys
	})
	client, secret, err := f.srv.CreateClient(t.Context(), "owner", ClientSpec{Name: "Enterprise agent", Confidential: true,
		GrantTypes: []string{GrantJWTBearer}})
	if err != nil {
		t.Fatal(err)
	}
	other, otherSecret, err := f.srv.CreateClient(t.Context(), "owner", ClientSpec{Name: "Other agent", Confidential: true,
		GrantTypes: []string{GrantJWTBearer}})
	if err != nil {
		t.Fatal(err)
	}
	codeOnly := f.register("http://127.0.0.1:7777/cb")
	resource := f.issuer + "/mcp/github"
	claims := func(mod func(map[string]any)) map[string]any {
		now := f.clock.Now()
		c := map[string]any{"iss": idp.issuer, "sub": "ann", "aud": f.issuer, "client_id": client.ID, "resource": resource,
			"scope": "mcp", "jti": randomToken(8), "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	grant := func(assertion string, extra url.Values) (int, map[string]any) {
		form := url.Values{"grant_type": {GrantJWTBearer}, "assertion": {assertion}, "client_id": {client.ID}, "client_secret": {secret}}
		for k, v := range extra {
			form[k] = v
		}
		return f.tokenRequest(form)
	}

	t.Run("the metadata advertises the grant and its profile", func(t *testing.T) {
		_, doc := f.get("/.well-known/oauth-authorization-server")
		if !strings.Contains(jsonString(t, doc["grant_types_supported"]), GrantJWTBearer) ||
			!strings.Contains(jsonString(t, doc["authorization_grant_profiles_supported"]), grantProfileIDJAG) {
			t.Fatalf("%v", doc)
		}
	})

	t.Run("a valid assertion gets an access token for its resource, without a refresh token", func(t *testing.T) {
		status, out := grant(idp.sign(idJAGType, claims(nil)), nil)
		if status != 200 || out["refresh_token"] != nil || out["scope"] != "mcp" {
			t.Fatalf("%d %v", status, out)
		}
		p, err := f.authenticate(out["access_token"].(string), "/mcp/github")
		if err != nil || p.User != "ann" {
			t.Fatalf("%+v %v", p, err)
		}
		if _, err := f.authenticate(out["access_token"].(string), "/mcp/other"); err == nil {
			t.Fatal("the token was accepted on another MCP endpoint")
		}
		if !f.audit.has("oauth.token", audit.OutcomeSuccess, "") {
			t.Fatalf("no allowed token entry: %+v", f.audit.snapshot())
		}
	})

	t.Run("the resource may come from the request when the assertion has none", func(t *testing.T) {
		status, out := grant(idp.sign(idJAGType, claims(func(c map[string]any) { delete(c, "resource") })), url.Values{"resource": {resource}})
		if status != 200 {
			t.Fatalf("%d %v", status, out)
		}
	})

	t.Run("after the IdP rotates its key the new key is fetched", func(t *testing.T) {
		idp.rotate()
		status, out := grant(idp.sign("application/"+idJAGType, claims(nil)), nil)
		if status != 200 {
			t.Fatalf("%d %v", status, out)
		}
	})

	replayed := idp.sign(idJAGType, claims(nil))
	if status, out := grant(replayed, nil); status != 200 {
		t.Fatalf("%d %v", status, out)
	}
	foreignKey, _ := newTestIdP(t)
	foreignKey.issuer = idp.issuer // same issuer, a key the IdP never published
	for _, tc := range []struct {
		name, assertion string
		extra           url.Values
		asOther         bool
		status          int
		code, inDesc    string
	}{
		{"no assertion", "", nil, false, 400, ErrInvalidRequest, "assertion is required"},
		{"not a JWT", "not-a-jwt", nil, false, 400, ErrInvalidGrant, "not a signed JWT"},
		{"a plain JWT, not an ID-JAG", idp.sign("JWT", claims(nil)), nil, false, 400, ErrInvalidGrant, "typ"},
		{"an untrusted issuer", idp.sign(idJAGType, claims(func(c map[string]any) { c["iss"] = "https://evil.example" })), nil, false, 400, ErrInvalidGrant, "not an enterprise identity provider"},
		{"a key the IdP does not publish", foreignKey.sign(idJAGType, claims(nil)), nil, false, 400, ErrInvalidGrant, "does not verify"},
		{"another audience", idp.sign(idJAGType, claims(func(c map[string]any) { c["aud"] = "https://other-as.example" })), nil, false, 400, ErrInvalidGrant, "audience"},
		{"expired", idp.sign(idJAGType, claims(func(c map[string]any) { c["exp"] = f.clock.Now().Add(-time.Hour).Unix() })), nil, false, 400, ErrInvalidGrant, "expired"},
		{"no exp", idp.sign(idJAGType, claims(func(c map[string]any) { delete(c, "exp") })), nil, false, 400, ErrInvalidGrant, "no exp"},
		{"a lifetime of a day", idp.sign(idJAGType, claims(func(c map[string]any) { c["exp"] = f.clock.Now().Add(24 * time.Hour).Unix() })), nil, false, 400, ErrInvalidGrant, "short-lived"},
		{"no jti", idp.sign(idJAGType, claims(func(c map[string]any) { delete(c, "jti") })), nil, false, 400, ErrInvalidGrant, "no jti"},
		{"a replay", replayed, nil, false, 400, ErrInvalidGrant, "already used"},
		{"issued for another client", idp.sign(idJAGType, claims(nil)), nil, true, 400, ErrInvalidGrant, "issued for client"},
		{"a foreign resource", idp.sign(idJAGType, claims(func(c map[string]any) { c["resource"] = "https://evil.example/mcp" })), nil, false, 400, ErrInvalidTarget, "not an MCP endpoint"},
		{"a request resource differing from the assertion's", idp.sign(idJAGType, claims(nil)), url.Values{"resource": {f.issuer + "/mcp/other"}}, false, 400, ErrInvalidTarget, "differs"},
		{"no resource anywhere", idp.sign(idJAGType, claims(func(c map[string]any) { delete(c, "resource") })), nil, false, 400, ErrInvalidTarget, "names a resource"},
		{"an unknown user", idp.sign(idJAGType, claims(func(c map[string]any) { c["sub"] = "mallory" })), nil, false, 400, ErrInvalidGrant, "no enabled Gatehouse user"},
		{"a disabled user", idp.sign(idJAGType, claims(func(c map[string]any) { c["sub"] = "bob" })), nil, false, 400, ErrInvalidGrant, "no enabled Gatehouse user"},
		{"no scope in common", idp.sign(idJAGType, claims(func(c map[string]any) { c["scope"] = "admin" })), nil, false, 400, ErrInvalidScope, "no scope"},
		{"a requested scope the assertion lacks", idp.sign(idJAGType, claims(nil)), url.Values{"scope": {"other"}}, false, 400, ErrInvalidScope, "no scope"},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			var status int
			var out map[string]any
			if tc.asOther {
				status, out = f.tokenRequest(url.Values{"grant_type": {GrantJWTBearer}, "assertion": {tc.assertion}, "client_id": {other.ID}, "client_secret": {otherSecret}})
			} else {
				status, out = grant(tc.assertion, tc.extra)
			}
			if status != tc.status || out["error"] != tc.code || !strings.Contains(out["error_description"].(string), tc.inDesc) {
				t.Fatalf("%d %v, want %d %s naming %q", status, out, tc.status, tc.code, tc.inDesc)
			}
			if !f.audit.has("oauth.token", audit.OutcomeDenied, tc.inDesc) {
				t.Fatalf("no denied audit entry naming %q", tc.inDesc)
			}
		})
	}

	t.Run("unknown key ids do not make the gateway fetch the keys on every request", func(t *testing.T) {
		idp.mu.Lock()
		before := idp.fetches
		idp.mu.Unlock()
		for range 5 {
			if status, _ := grant(foreignKey.sign(idJAGType, claims(nil)), nil); status != 400 {
				t.Fatalf("a forged key was accepted: %d", status)
			}
		}
		idp.mu.Lock()
		defer idp.mu.Unlock()
		if idp.fetches-before > 1 {
			t.Fatalf("%d key fetches for 5 assertions with an unknown key id", idp.fetches-before)
		}
	})

	t.Run("refused: a client not registered for the grant", func(t *testing.T) {
		status, out := f.tokenRequest(url.Values{"grant_type": {GrantJWTBearer}, "assertion": {idp.sign(idJAGType, claims(nil))}, "client_id": {codeOnly}})
		if status != 400 || out["error"] != ErrUnauthorizedClient {
			t.Fatalf("%d %v", status, out)
		}
	})

	t.Run("an IdP limited to some clients refuses the others", func(t *testing.T) {
		g := newFixture(t, func(c *Config, d *Deps) {
			c.EnterpriseIdPs = []EnterpriseIdP{{Issuer: idp.issuer, JWKSURI: idp.jwks, Clients: []string{"only-this-one"}}}
			d.FetchKeys = fetchKeys
		})
		c, sec, err := g.srv.CreateClient(t.Context(), "owner", ClientSpec{Name: "agent", Confidential: true, GrantTypes: []string{GrantJWTBearer}})
		if err != nil {
			t.Fatal(err)
		}
		a := idp.sign(idJAGType, map[string]any{"iss": idp.issuer, "sub": "ann", "aud": g.issuer, "client_id": c.ID, "resource": g.issuer + "/mcp/github",
			"jti": randomToken(8), "exp": g.clock.Now().Add(time.Minute).Unix()})
		status, out := g.tokenRequest(url.Values{"grant_type": {GrantJWTBearer}, "assertion": {a}, "client_id": {c.ID}, "client_secret": {sec}})
		if status != 400 || out["error"] != ErrUnauthorizedClient {
			t.Fatalf("%d %v", status, out)
		}
	})

	t.Run("without trusted IdPs the grant is unsupported", func(t *testing.T) {
		g := newFixture(t)
		c, sec, err := g.srv.CreateClient(t.Context(), "owner", ClientSpec{Name: "agent", Confidential: true, GrantTypes: []string{GrantJWTBearer}})
		if err != nil {
			t.Fatal(err)
		}
		status, out := g.tokenRequest(url.Values{"grant_type": {GrantJWTBearer}, "assertion": {"x"}, "client_id": {c.ID}, "client_secret": {sec}})
		if status != 400 || out["error"] != ErrUnsupportedGrantType {
			t.Fatalf("%d %v", status, out)
		}
		_, doc := g.get("/.well-known/oauth-authorization-server")
		if doc["authorization_grant_profiles_supported"] != nil {
			t.Fatalf("profile advertised without IdPs: %v", doc)
		}
	})
}

func TestEnterpriseIdPSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		idp  EnterpriseIdP
		bad  string
	}{
		{"valid", EnterpriseIdP{Issuer: "https://idp.example", JWKSURI: "https://idp.example/keys"}, ""},
		{"email as the user", EnterpriseIdP{Issuer: "https://idp.example", JWKSURI: "https://idp.example/keys", UserClaim: "email"}, ""},
		{"no issuer", EnterpriseIdP{JWKSURI: "https://idp.example/keys"}, "needs an issuer"},
		{"keys over http", EnterpriseIdP{Issuer: "https://idp.example", JWKSURI: "http://idp.example/keys"}, "https"},
		{"an unknown user claim", EnterpriseIdP{Issuer: "https://idp.example", JWKSURI: "https://idp.example/keys", UserClaim: "name"}, "user_claim"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.idp.check()
			if (err == nil) != (tc.bad == "") || (err != nil && !strings.Contains(err.Error(), tc.bad)) {
				t.Fatalf("%v, want %q", err, tc.bad)
			}
		})
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
