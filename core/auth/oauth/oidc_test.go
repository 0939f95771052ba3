package oauth

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/test/oidcpeer"
)

func TestSignInWithAnOIDCProvider(t *testing.T) {
	m := oidcpeer.Start(t)
	idpClient := &http.Client{Transport: m.Transport(), Timeout: testHTTPBound}
	cfg := m.Config()
	f := newFixture(t, func(c *Config, _ *Deps) {
		c.OIDC = &OIDCConfig{Name: "Acme SSO", Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, HTTPClient: idpClient}
	})
	f.users["ann@example.com"] = &auth.User{ID: "ann@example.com"}
	const cb = "http://127.0.0.1:7777/cb"
	client := f.register(cb)
	// browser follows nothing itself, trusts the provider, keeps cookies.
	browser := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, Timeout: testHTTPBound, Transport: m.Transport(),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	// toProvider signs in up to the redirect back from the provider and
	// returns the callback URL.
	toProvider := func(t *testing.T, b *http.Client, user mockoidc.User) string {
		t.Helper()
		_, challenge := pkce()
		resp, err := b.Get(f.issuer + "/oauth/authorize?" + f.authzParams(client, cb, challenge).Encode())
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(t, resp)
		if !strings.Contains(page, "Sign in with Acme SSO") {
			t.Fatalf("the sign-in page offers no SSO button:\n%s", page)
		}
		resp, err = b.PostForm(f.issuer+"/oauth/oidc/start", formFields(t, page))
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		at, err := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(at.String(), m.AuthorizationEndpoint()) {
			t.Fatalf("start: %d to %q", resp.StatusCode, at)
		}
		if at.Query().Get("code_challenge_method") != "S256" || at.Query().Get("nonce") == "" || at.Query().Get("redirect_uri") != f.issuer+oidcCallbackPath {
			t.Fatalf("the provider was asked without PKCE S256, nonce or the callback: %s", at.RawQuery)
		}
		m.QueueUser(user)
		resp, err = b.Get(at.String())
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		back := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(back, f.issuer+oidcCallbackPath) {
			t.Fatalf("provider: %d to %q", resp.StatusCode, back)
		}
		return back
	}
	ann := &mockoidc.MockUser{Subject: "00u-ann", Email: "ann@example.com", EmailVerified: true}

	t.Run("a user signs in at the provider, consents, and the client gets tokens", func(t *testing.T) {
		b := browser()
		back := toProvider(t, b, ann)
		resp, err := b.Get(back)
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(t, resp)
		if resp.StatusCode != 200 || !strings.Contains(page, "ann@example.com") {
			t.Fatalf("callback: %d\n%s", resp.StatusCode, page)
		}
		resp, err = b.PostForm(f.issuer+"/oauth/consent", withDecision(formFields(t, page), "allow"))
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		to, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || to.Query().Get("code") == "" {
			t.Fatalf("consent: %d to %q", resp.StatusCode, to)
		}
		if !f.audit.has("oauth.login", audit.OutcomeSuccess, "") {
			t.Fatal("no successful oauth.login entry")
		}

		t.Run("the callback cannot be replayed", func(t *testing.T) {
			resp, err := b.Get(back)
			if err != nil {
				t.Fatal(err)
			}
			if page := readAll(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "already used") {
				t.Fatalf("%d\n%s", resp.StatusCode, page)
			}
		})
	})

	for _, tc := range []struct {
		name   string
		user   mockoidc.User
		mangle func(back string) string
		other  bool // the callback arrives in another browser
		status int
		why    string
	}{
		{"a user without a Gatehouse account", &mockoidc.MockUser{Subject: "00u-zed", Email: "zed@example.com", EmailVerified: true}, nil, false, http.StatusForbidden, "no enabled Gatehouse account"},
		{"a disabled user", &mockoidc.MockUser{Subject: "00u-bob", Email: "bob", EmailVerified: true}, nil, false, http.StatusForbidden, "no enabled Gatehouse account"},
		{"an email the provider has not verified", unverified{&mockoidc.MockUser{Subject: "00u-ann", Email: "ann@example.com"}}, nil, false, http.StatusForbidden, "not verified"},
		{"the callback in another browser", ann, nil, true, http.StatusBadRequest, "did not come back to the browser"},
		{"a forged code", ann, func(back string) string {
			u, _ := url.Parse(back)
			q := u.Query()
			q.Set("code", "forged")
			u.RawQuery = q.Encode()
			return u.String()
		}, false, http.StatusForbidden, "could not be exchanged"},
		{"the provider's refusal", ann, func(back string) string {
			u, _ := url.Parse(back)
			q := u.Query()
			q.Del("code")
			q.Set("error", "access_denied")
			u.RawQuery = q.Encode()
			return u.String()
		}, false, http.StatusForbidden, "refused: access_denied"},
		{"an unknown state", ann, func(back string) string {
			u, _ := url.Parse(back)
			q := u.Query()
			q.Set("state", "made-up")
			u.RawQuery = q.Encode()
			return u.String()
		}, false, http.StatusBadRequest, "expired or was already used"},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			b := browser()
			back := toProvider(t, b, tc.user)
			if tc.mangle != nil {
				back = tc.mangle(back)
			}
			if tc.other {
				b = browser()
			}
			resp, err := b.Get(back)
			if err != nil {
				t.Fatal(err)
			}
			page := readAll(t, resp)
			if resp.StatusCode != tc.status || !strings.Contains(page, tc.why) || strings.Contains(page, "Allow access?") {
				t.Fatalf("%d, want %d naming %q\n%s", resp.StatusCode, tc.status, tc.why, page)
			}
			if !f.audit.has("oauth.login", audit.OutcomeDenied, tc.why) {
				t.Fatalf("no denied oauth.login entry naming %q", tc.why)
			}
		})
	}

	t.Run("the start form needs the request's CSRF token", func(t *testing.T) {
		b := browser()
		_, challenge := pkce()
		resp, err := b.Get(f.issuer + "/oauth/authorize?" + f.authzParams(client, cb, challenge).Encode())
		if err != nil {
			t.Fatal(err)
		}
		form := formFields(t, readAll(t, resp))
		form.Set("csrf", "forged")
		resp, err = b.PostForm(f.issuer+"/oauth/oidc/start", form)
		if err != nil {
			t.Fatal(err)
		}
		if page := readAll(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "CSRF") {
			t.Fatalf("%d\n%s", resp.StatusCode, page)
		}
	})

	t.Run("without a provider the page offers passwords only", func(t *testing.T) {
		g := newFixture(t)
		c := g.register(cb)
		_, challenge := pkce()
		resp, err := g.browser().Get(g.issuer + "/oauth/authorize?" + g.authzParams(c, cb, challenge).Encode())
		if err != nil {
			t.Fatal(err)
		}
		if page := readAll(t, resp); strings.Contains(page, "oidc/start") {
			t.Fatalf("an SSO button without a provider:\n%s", page)
		}
	})
}

func TestOIDCSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  OIDCConfig
		bad  string
	}{
		{"valid", OIDCConfig{Issuer: "https://idp.example", ClientID: "gw"}, ""},
		{"no client", OIDCConfig{Issuer: "https://idp.example"}, "client_id"},
		{"http issuer", OIDCConfig{Issuer: "http://idp.example", ClientID: "gw"}, "https"},
		{"unknown claim", OIDCConfig{Issuer: "https://idp.example", ClientID: "gw", UserClaim: "name"}, "user_claim"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.check()
			if (err == nil) != (tc.bad == "") || (err != nil && !strings.Contains(err.Error(), tc.bad)) {
				t.Fatalf("%v, want %q", err, tc.bad)
			}
		})
	}
}

// unverified is a provider user whose ID token says email_verified:
// false (mockoidc's own user leaves a false value out).
type unverified struct{ *mockoidc.MockUser }

func (u unverified) Claims(_ []string, c *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	return &struct {
		*mockoidc.IDTokenClaims
		Email    string `json:"email"`
		Verified bool   `json:"email_verified"`
	}{c, u.Email, false}, nil
}

func withDecision(v url.Values, d string) url.Values {
	v.Set("decision", d)
	return v
}
