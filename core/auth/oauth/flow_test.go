package oauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/auth/redirect"
)

func TestMetadata(t *testing.T) {
	f := newFixture(t)
	get := f.get
	t.Run("the authorization server metadata advertises S256 only, iss in responses and CIMD", func(t *testing.T) {
		status, doc := get("/.well-known/oauth-authorization-server")
		if status != 200 || doc["issuer"] != f.issuer {
			t.Fatalf("%d %v", status, doc)
		}
		if m, _ := json.Marshal(doc["code_challenge_methods_supported"]); string(m) != `["S256"]` {
			t.Fatalf("code_challenge_methods_supported = %s", m)
		}
		if doc["authorization_response_iss_parameter_supported"] != true || doc["client_id_metadata_document_supported"] != true {
			t.Fatalf("doc = %v", doc)
		}
		for _, k := range []string{"authorization_endpoint", "token_endpoint", "registration_endpoint", "revocation_endpoint", "jwks_uri"} {
			if !strings.HasPrefix(doc[k].(string), f.issuer+"/oauth/") {
				t.Fatalf("%s = %v", k, doc[k])
			}
		}
	})
	for _, tc := range []struct{ path, resource string }{
		{"/.well-known/oauth-protected-resource", "/mcp"},
		{"/.well-known/oauth-protected-resource/mcp", "/mcp"},
		{"/.well-known/oauth-protected-resource/mcp/github", "/mcp/github"},
	} {
		t.Run("protected resource metadata at "+tc.path+" names "+tc.resource, func(t *testing.T) {
			status, doc := get(tc.path)
			if status != 200 || doc["resource"] != f.issuer+tc.resource {
				t.Fatalf("%d %v", status, doc)
			}
			if as, _ := json.Marshal(doc["authorization_servers"]); string(as) != `["`+f.issuer+`"]` {
				t.Fatalf("authorization_servers = %s", as)
			}
		})
	}
	for _, path := range []string{"/.well-known/oauth-protected-resource/admin/v1", "/.well-known/oauth-protected-resource/mcp/Bad_Slug", "/.well-known/oauth-protected-resource/mcp/a/b"} {
		t.Run("no resource metadata for "+path, func(t *testing.T) {
			if status, _ := get(path); status != http.StatusNotFound {
				t.Fatalf("status %d", status)
			}
		})
	}
	t.Run("the 401 challenge names the endpoint's resource metadata and scope", func(t *testing.T) {
		got := f.srv.Challenge("/mcp/github")
		want := `Bearer resource_metadata="` + f.issuer + `/.well-known/oauth-protected-resource/mcp/github", scope="mcp"`
		if got != want {
			t.Fatalf("Challenge = %s, want %s", got, want)
		}
		if f.srv.Challenge("/admin/v1/users") != "" {
			t.Fatal("a challenge for the admin API")
		}
	})
}

func TestAuthorizationCodeFlow(t *testing.T) {
	f := newFixture(t)
	const cb = "http://127.0.0.1:9999/callback"
	client := f.register(cb)
	verifier, challenge := pkce()
	b := f.browser()
	q := f.signIn(b, f.authzParams(client, cb, challenge), "ann", annPassword)

	t.Run("the redirect carries the code, the state and iss (RFC 9207)", func(t *testing.T) {
		if q.Get("code") == "" || q.Get("state") != "st-1" || q.Get("iss") != f.issuer {
			t.Fatalf("redirect query = %v", q)
		}
	})
	var tok map[string]any
	t.Run("the code and verifier give an access and a refresh token", func(t *testing.T) {
		status, out := f.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
			"redirect_uri": {cb}, "client_id": {client}, "code_verifier": {verifier}})
		if status != 200 || out["token_type"] != "Bearer" || out["refresh_token"] == "" || out["scope"] != "mcp" {
			t.Fatalf("%d %v", status, out)
		}
		tok = out
	})
	t.Run("the access token authenticates ann on its own endpoint", func(t *testing.T) {
		p, err := f.authenticate(tok["access_token"].(string), "/mcp/github")
		if err != nil || p.User != "ann" || p.Provider != "oauth" {
			t.Fatalf("%+v, %v", p, err)
		}
		if _, err := f.authenticate(tok["access_token"].(string), "/sse/github/messages"); err != nil {
			t.Fatalf("legacy SSE endpoint of the same connector: %v", err)
		}
	})
	t.Run("a second sign-in of the same client skips the consent page", func(t *testing.T) {
		_, ch := pkce()
		resp, err := b.Get(f.issuer + "/oauth/authorize?" + f.authzParams(client, cb, ch).Encode())
		if err != nil {
			t.Fatal(err)
		}
		form := formFields(t, readAll(t, resp))
		form.Set("username", "ann")
		form.Set("password", annPassword)
		resp, err = b.PostForm(f.issuer+"/oauth/login", form)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if resp.StatusCode != http.StatusFound || redirectQuery(t, resp).Get("code") == "" {
			t.Fatalf("status %d, location %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("a refresh rotates the refresh token and keeps the audience", func(t *testing.T) {
		status, out := f.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {client}})
		if status != 200 || out["refresh_token"] == tok["refresh_token"] {
			t.Fatalf("%d %v", status, out)
		}
		if _, err := f.authenticate(out["access_token"].(string), "/mcp/github"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("every step is audited", func(t *testing.T) {
		for _, a := range []string{"oauth.register", "oauth.login", "oauth.consent", "oauth.authorize", "oauth.token"} {
			if !f.audit.has(a, audit.OutcomeSuccess, "") {
				t.Errorf("no successful %s entry", a)
			}
		}
	})
}

// TestBadInput drives every refusal the issue lists: each gets its OAuth
// error code and an audit entry saying so.
func TestBadInput(t *testing.T) {
	f := newFixture(t)
	const cb = "http://127.0.0.1:9999/callback"
	client := f.register(cb)

	code := func(challenge string) string {
		t.Helper()
		return f.signIn(f.browser(), f.authzParams(client, cb, challenge), "ann", annPassword).Get("code")
	}
	exchange := func(code, verifier string) (int, map[string]any) {
		return f.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {cb},
			"client_id": {client}, "code_verifier": {verifier}})
	}

	t.Run("a wrong PKCE verifier is invalid_grant", func(t *testing.T) {
		_, challenge := pkce()
		other, _ := pkce()
		status, out := exchange(code(challenge), other)
		if status != 400 || out["error"] != ErrInvalidGrant || !strings.Contains(out["error_description"].(string), "PKCE") {
			t.Fatalf("%d %v", status, out)
		}
		if !f.audit.has("oauth.token", audit.OutcomeDenied, "invalid_grant: PKCE verification failed") {
			t.Fatal("not audited")
		}
	})

	t.Run("plain PKCE is refused with invalid_request at the redirect", func(t *testing.T) {
		p := f.authzParams(client, cb, strings.Repeat("a", 43))
		p.Set("code_challenge_method", "plain")
		resp, err := f.browser().Get(f.issuer + "/oauth/authorize?" + p.Encode())
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		q := redirectQuery(t, resp)
		if resp.StatusCode != http.StatusFound || q.Get("error") != ErrInvalidRequest || !strings.Contains(q.Get("error_description"), "plain") ||
			q.Get("iss") != f.issuer || q.Get("state") != "st-1" {
			t.Fatalf("%d %v", resp.StatusCode, q)
		}
		if !f.audit.has("oauth.authorize", audit.OutcomeDenied, "plain is not allowed") {
			t.Fatal("not audited")
		}
	})

	t.Run("a reused code is invalid_grant and revokes the tokens it gave", func(t *testing.T) {
		verifier, challenge := pkce()
		c := code(challenge)
		status, first := exchange(c, verifier)
		if status != 200 {
			t.Fatalf("first use: %d %v", status, first)
		}
		status, out := exchange(c, verifier)
		if status != 400 || out["error"] != ErrInvalidGrant || !strings.Contains(out["error_description"].(string), "already used") {
			t.Fatalf("%d %v", status, out)
		}
		if _, err := f.authenticate(first["access_token"].(string), "/mcp/github"); !errors.Is(err, auth.ErrTokenRevoked) {
			t.Fatalf("access token of a reused code: %v, want revoked", err)
		}
		if !f.audit.has("oauth.token", audit.OutcomeDenied, "already used") {
			t.Fatal("not audited")
		}
	})

	t.Run("a reused refresh token is invalid_grant and revokes its family", func(t *testing.T) {
		client, tok := f.grant()
		old := tok["refresh_token"].(string)
		status, next := f.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old}, "client_id": {client}})
		if status != 200 {
			t.Fatalf("rotation: %d %v", status, next)
		}
		status, out := f.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old}, "client_id": {client}})
		if status != 400 || out["error"] != ErrInvalidGrant || !strings.Contains(out["error_description"].(string), "already used") {
			t.Fatalf("reuse: %d %v", status, out)
		}
		status, out = f.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next["refresh_token"].(string)}, "client_id": {client}})
		if status != 400 || out["error"] != ErrInvalidGrant {
			t.Fatalf("the family's newest refresh token after reuse: %d %v", status, out)
		}
		for _, at := range []any{tok["access_token"], next["access_token"]} {
			if _, err := f.authenticate(at.(string), "/mcp/github"); !errors.Is(err, auth.ErrTokenRevoked) {
				t.Fatalf("access token of a revoked family: %v", err)
			}
		}
		if !f.audit.has("oauth.token", audit.OutcomeDenied, "refresh token was already used") || !f.audit.has("oauth.grant.revoke", audit.OutcomeSuccess, "") {
			t.Fatal("not audited")
		}
	})

	t.Run("an expired access token is refused as expired", func(t *testing.T) {
		g := newFixture(t)
		_, tok := g.grant()
		g.clock.Add(DefaultAccessTTL + time.Second)
		if _, err := g.authenticate(tok["access_token"].(string), "/mcp/github"); !errors.Is(err, auth.ErrTokenExpired) {
			t.Fatalf("%v, want ErrTokenExpired", err)
		}
	})

	t.Run("an expired code is invalid_grant", func(t *testing.T) {
		g := newFixture(t)
		cl := g.register(cb)
		verifier, challenge := pkce()
		c := g.signIn(g.browser(), g.authzParams(cl, cb, challenge), "ann", annPassword).Get("code")
		g.clock.Add(DefaultCodeTTL + time.Second)
		status, out := g.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {cb},
			"client_id": {cl}, "code_verifier": {verifier}})
		if status != 400 || out["error"] != ErrInvalidGrant || !strings.Contains(out["error_description"].(string), "expired") {
			t.Fatalf("%d %v", status, out)
		}
	})

	t.Run("a token for another audience is refused", func(t *testing.T) {
		_, tok := f.grant()
		for _, path := range []string{"/mcp/gitlab", "/mcp", "/admin/v1/users"} {
			if _, err := f.authenticate(tok["access_token"].(string), path); !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("token for /mcp/github on %s: %v", path, err)
			}
		}
	})

	t.Run("a token without the mcp scope asks for step-up", func(t *testing.T) {
		at, _, err := f.srv.issueAccess("ann", client, f.issuer+"/mcp/github", "", "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.authenticate(at, "/mcp/github")
		var up *auth.StepUpError
		if !errors.As(err, &up) || !strings.Contains(up.Challenge, `error="insufficient_scope"`) || !strings.Contains(up.Challenge, `scope="mcp"`) {
			t.Fatalf("%v", err)
		}
	})

	t.Run("an unregistered client is shown an error page, never redirected", func(t *testing.T) {
		_, challenge := pkce()
		resp, err := f.browser().Get(f.issuer + "/oauth/authorize?" + f.authzParams("dcr_nobody", cb, challenge).Encode())
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(t, resp)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Location") != "" || !strings.Contains(page, "not registered") {
			t.Fatalf("%d %s", resp.StatusCode, page)
		}
		status, out := f.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {"dcr_nobody"}, "code_verifier": {"y"}})
		if status != 401 || out["error"] != ErrInvalidClient {
			t.Fatalf("token endpoint: %d %v", status, out)
		}
		if !f.audit.has("oauth.authorize", audit.OutcomeDenied, "invalid_client") || !f.audit.has("oauth.token", audit.OutcomeDenied, "invalid_client") {
			t.Fatal("not audited")
		}
	})

	t.Run("an oversized registration is invalid_client_metadata, 413", func(t *testing.T) {
		big := `{"client_name":"` + strings.Repeat("x", DefaultRegistrationMaxBytes) + `","redirect_uris":["` + cb + `"]}`
		resp, err := plain().Post(f.issuer+"/oauth/register", "application/json", strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || out["error"] != ErrInvalidClientMetadata {
			t.Fatalf("%d %v", resp.StatusCode, out)
		}
		if !f.audit.has("oauth.register", audit.OutcomeDenied, "exceeds") {
			t.Fatal("not audited")
		}
	})

	for _, tc := range []struct {
		name, body, code string
	}{
		{"no redirect URIs", `{"client_name":"x"}`, ErrInvalidRedirectURI},
		{"an http redirect URI off loopback", `{"redirect_uris":["http://evil.example/cb"]}`, ErrInvalidRedirectURI},
		{"a custom scheme for a web client", `{"redirect_uris":["com.example.app:/cb"]}`, ErrInvalidRedirectURI},
		{"a redirect URI with a fragment", `{"redirect_uris":["https://app.example/cb#x"]}`, ErrInvalidRedirectURI},
		{"an unknown application_type", `{"redirect_uris":["https://app.example/cb"],"application_type":"tv"}`, ErrInvalidClientMetadata},
		{"the implicit grant", `{"redirect_uris":["https://app.example/cb"],"grant_types":["implicit"]}`, ErrInvalidClientMetadata},
		{"an unknown scope", `{"redirect_uris":["https://app.example/cb"],"scope":"admin"}`, ErrInvalidClientMetadata},
		{"not JSON", `client_name=x`, ErrInvalidClientMetadata},
		{"a blocked redirect URI", `{"redirect_uris":["https://blocked.example/cb"]}`, ErrInvalidRedirectURI},
	} {
		t.Run("a registration with "+tc.name+" is "+tc.code, func(t *testing.T) {
			f.rules.outcome["https://blocked.example/cb"] = redirect.Blocked
			resp, err := plain().Post(f.issuer+"/oauth/register", "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			var out map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if resp.StatusCode != 400 || out["error"] != tc.code {
				t.Fatalf("%d %v", resp.StatusCode, out)
			}
			if !f.audit.has("oauth.register", audit.OutcomeDenied, tc.code) {
				t.Fatal("not audited")
			}
		})
	}

	for _, tc := range []struct {
		name  string
		edit  func(url.Values)
		code  string
		inErr string
	}{
		{"no PKCE", func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") }, ErrInvalidRequest, "PKCE is required"},
		{"no challenge method", func(v url.Values) { v.Del("code_challenge_method") }, ErrInvalidRequest, "only S256"},
		{"a malformed challenge", func(v url.Values) { v.Set("code_challenge", "short") }, ErrInvalidRequest, "43 characters"},
		{"no resource", func(v url.Values) { v.Del("resource") }, ErrInvalidTarget, "required"},
		{"a foreign resource", func(v url.Values) { v.Set("resource", "https://evil.example/mcp") }, ErrInvalidTarget, "not an MCP endpoint"},
		{"the admin API as resource", func(v url.Values) { v.Set("resource", f.issuer+"/admin/v1") }, ErrInvalidTarget, "not an MCP endpoint"},
		{"two resources", func(v url.Values) { v.Add("resource", f.issuer+"/mcp") }, ErrInvalidTarget, "exactly one"},
		{"an unknown scope", func(v url.Values) { v.Set("scope", "mcp admin") }, ErrInvalidScope, "admin"},
		{"the token response type", func(v url.Values) { v.Set("response_type", "token") }, ErrUnsupportedResponseType, "code"},
	} {
		t.Run("an authorization request with "+tc.name+" redirects back with "+tc.code, func(t *testing.T) {
			_, challenge := pkce()
			p := f.authzParams(client, cb, challenge)
			tc.edit(p)
			resp, err := f.browser().Get(f.issuer + "/oauth/authorize?" + p.Encode())
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, resp)
			q := redirectQuery(t, resp)
			if resp.StatusCode != http.StatusFound || q.Get("error") != tc.code || !strings.Contains(q.Get("error_description"), tc.inErr) {
				t.Fatalf("%d %v", resp.StatusCode, q)
			}
		})
	}

	t.Run("an unregistered redirect URI is an error page, not a redirect", func(t *testing.T) {
		_, challenge := pkce()
		resp, err := f.browser().Get(f.issuer + "/oauth/authorize?" + f.authzParams(client, "https://evil.example/cb", challenge).Encode())
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(t, resp)
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(page, "not registered") {
			t.Fatalf("%d %s", resp.StatusCode, page)
		}
	})

	t.Run("a loopback redirect URI may use another port", func(t *testing.T) {
		_, challenge := pkce()
		q := f.signIn(f.browser(), f.authzParams(client, "http://127.0.0.1:51234/callback", challenge), "ann", annPassword)
		if q.Get("code") == "" {
			t.Fatalf("%v", q)
		}
	})

	t.Run("a wrong password or a disabled user does not sign in", func(t *testing.T) {
		for _, c := range []struct{ user, pw string }{{"ann", "wrong password!!"}, {"bob", annPassword}, {"nobody", annPassword}} {
			_, challenge := pkce()
			b := f.browser()
			resp, err := b.Get(f.issuer + "/oauth/authorize?" + f.authzParams(client, cb, challenge).Encode())
			if err != nil {
				t.Fatal(err)
			}
			form := formFields(t, readAll(t, resp))
			form.Set("username", c.user)
			form.Set("password", c.pw)
			resp, err = b.PostForm(f.issuer+"/oauth/login", form)
			if err != nil {
				t.Fatal(err)
			}
			page := readAll(t, resp)
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "Wrong user name or password") {
				t.Fatalf("%s: %d", c.user, resp.StatusCode)
			}
		}
		if !f.audit.has("oauth.login", audit.OutcomeDenied, "sign-in failed") {
			t.Fatal("not audited")
		}
	})

	t.Run("a login form posted from another browser fails the CSRF check", func(t *testing.T) {
		_, challenge := pkce()
		resp, err := f.browser().Get(f.issuer + "/oauth/authorize?" + f.authzParams(client, cb, challenge).Encode())
		if err != nil {
			t.Fatal(err)
		}
		form := formFields(t, readAll(t, resp))
		form.Set("username", "ann")
		form.Set("password", annPassword)
		resp, err = f.browser().PostForm(f.issuer+"/oauth/login", form)
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(t, resp)
		if resp.StatusCode != 400 || !strings.Contains(page, "CSRF") {
			t.Fatalf("%d %s", resp.StatusCode, page)
		}
	})

	t.Run("a denied consent redirects with access_denied", func(t *testing.T) {
		g := newFixture(t)
		cl := g.register(cb)
		_, challenge := pkce()
		b := g.browser()
		resp, _ := b.Get(g.issuer + "/oauth/authorize?" + g.authzParams(cl, cb, challenge).Encode())
		form := formFields(t, readAll(t, resp))
		form.Set("username", "ann")
		form.Set("password", annPassword)
		resp, _ = b.PostForm(g.issuer+"/oauth/login", form)
		form = formFields(t, readAll(t, resp))
		form.Set("decision", "deny")
		resp, _ = b.PostForm(g.issuer+"/oauth/consent", form)
		readAll(t, resp)
		if q := redirectQuery(t, resp); resp.StatusCode != http.StatusFound || q.Get("error") != ErrAccessDenied || q.Get("code") != "" {
			t.Fatalf("%d %v", resp.StatusCode, q)
		}
	})

	t.Run("a code is bound to its client", func(t *testing.T) {
		other := f.register(cb)
		verifier, challenge := pkce()
		c := code(challenge)
		status, out := f.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {cb},
			"client_id": {other}, "code_verifier": {verifier}})
		if status != 400 || out["error"] != ErrInvalidGrant {
			t.Fatalf("%d %v", status, out)
		}
	})

	t.Run("an unsupported grant type is unsupported_grant_type", func(t *testing.T) {
		status, out := f.tokenRequest(url.Values{"grant_type": {"password"}, "client_id": {client}, "username": {"ann"}, "password": {annPassword}})
		if status != 400 || out["error"] != ErrUnsupportedGrantType {
			t.Fatalf("%d %v", status, out)
		}
	})
}

func TestRedirectRulesAtAuthorize(t *testing.T) {
	f := newFixture(t)
	const cb = "http://127.0.0.1:9999/callback"
	client := f.register(cb)
	_, challenge := pkce()
	get := func() (*http.Response, string) {
		resp, err := f.browser().Get(f.issuer + "/oauth/authorize?" + f.authzParams(client, cb, challenge).Encode())
		if err != nil {
			t.Fatal(err)
		}
		return resp, readAll(t, resp)
	}
	t.Run("a blocked redirect URI shows the blocked page and what to do next", func(t *testing.T) {
		f.rules.outcome[cb] = redirect.Blocked
		resp, page := get()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "This redirect URI is blocked for your organization") ||
			!strings.Contains(page, "What to do next") || resp.Header.Get("Location") != "" {
			t.Fatalf("%d %s", resp.StatusCode, page)
		}
		if !f.audit.has("oauth.authorize", audit.OutcomeDenied, "blocked") {
			t.Fatal("not audited")
		}
	})
	t.Run("a pending redirect URI shows the waiting page that reloads itself", func(t *testing.T) {
		f.rules.outcome[cb] = redirect.Pending
		resp, page := get()
		if resp.StatusCode != http.StatusAccepted || !strings.Contains(page, "Waiting for admin approval") ||
			!strings.Contains(page, `http-equiv="refresh"`) || !strings.Contains(page, "pend-1") {
			t.Fatalf("%d %s", resp.StatusCode, page)
		}
	})
	t.Run("once approved, the same request proceeds to sign-in", func(t *testing.T) {
		delete(f.rules.outcome, cb)
		resp, page := get()
		if resp.StatusCode != 200 || !strings.Contains(page, "Sign in to Gatehouse") {
			t.Fatalf("%d %s", resp.StatusCode, page)
		}
	})
	t.Run("the rules were asked with the client and the source", func(t *testing.T) {
		f.rules.mu.Lock()
		defer f.rules.mu.Unlock()
		last := f.rules.asked[len(f.rules.asked)-1]
		if last.URI != cb || last.ClientID != client || last.Source != "authorize" {
			t.Fatalf("%+v", last)
		}
	})
}

func TestRevocation(t *testing.T) {
	f := newFixture(t)
	t.Run("revoking an access token refuses it at once", func(t *testing.T) {
		client, tok := f.grant()
		status, _ := f.post("/oauth/revoke", url.Values{"token": {tok["access_token"].(string)}, "client_id": {client}})
		if status != 200 {
			t.Fatalf("status %d", status)
		}
		if _, err := f.authenticate(tok["access_token"].(string), "/mcp/github"); !errors.Is(err, auth.ErrTokenRevoked) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("revoking a refresh token revokes its grant", func(t *testing.T) {
		client, tok := f.grant()
		if status, _ := f.post("/oauth/revoke", url.Values{"token": {tok["refresh_token"].(string)}, "client_id": {client}}); status != 200 {
			t.Fatalf("status %d", status)
		}
		status, out := f.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {client}})
		if status != 400 || out["error"] != ErrInvalidGrant {
			t.Fatalf("%d %v", status, out)
		}
		if _, err := f.authenticate(tok["access_token"].(string), "/mcp/github"); !errors.Is(err, auth.ErrTokenRevoked) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("another client cannot revoke a token, and is told nothing", func(t *testing.T) {
		_, tok := f.grant()
		other := f.register("http://127.0.0.1:1/cb")
		if status, _ := f.post("/oauth/revoke", url.Values{"token": {tok["access_token"].(string)}, "client_id": {other}}); status != 200 {
			t.Fatalf("status %d", status)
		}
		if _, err := f.authenticate(tok["access_token"].(string), "/mcp/github"); err != nil {
			t.Fatalf("revoked by another client: %v", err)
		}
	})
	t.Run("revocations survive a restart", func(t *testing.T) {
		client, tok := f.grant()
		f.post("/oauth/revoke", url.Values{"token": {tok["access_token"].(string)}, "client_id": {client}})
		again, err := New(t.Context(), f.srv.cfg, f.srv.d)
		if err != nil {
			t.Fatal(err)
		}
		_, err = again.AuthenticateHeader(auth.WithRequestPath(t.Context(), "/mcp/github"), []byte("Bearer "+tok["access_token"].(string)))
		if !errors.Is(err, auth.ErrTokenRevoked) {
			t.Fatalf("%v", err)
		}
	})
}

func TestProviderLeavesOtherCredentials(t *testing.T) {
	f := newFixture(t)
	for _, h := range []string{"Bearer gh_abc123", "Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-jwt"} {
		if _, err := f.srv.AuthenticateHeader(t.Context(), []byte(h)); !errors.Is(err, auth.ErrNotMine) {
			t.Errorf("%q: %v, want ErrNotMine", h, err)
		}
	}
	if _, err := f.authenticate("eyJhbGciOiJFUzI1NiJ9.e30.AAAA", "/mcp"); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("a forged JWT: %v", err)
	}
}

func TestSetPassword(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ name, user, pw string }{
		{"a short password", "ann", "short"},
		{"a password over 72 bytes", "ann", strings.Repeat("p", 73)},
		{"an unknown user", "nobody", annPassword},
	} {
		t.Run(tc.name+" is refused and the old password still works", func(t *testing.T) {
			if err := f.srv.SetPassword(t.Context(), tc.user, tc.pw); err == nil {
				t.Fatal("accepted")
			}
			if err := f.srv.CheckPassword(t.Context(), "ann", annPassword); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("a deleted password no longer signs in", func(t *testing.T) {
		if err := f.srv.DeletePassword(t.Context(), "ann"); err != nil {
			t.Fatal(err)
		}
		if err := f.srv.CheckPassword(t.Context(), "ann", annPassword); err == nil {
			t.Fatal("signed in")
		}
	})
}
