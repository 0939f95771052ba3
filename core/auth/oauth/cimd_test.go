package oauth

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/netguard"
)

// cimdHost serves client metadata documents over TLS.
func cimdHost(t *testing.T, handler http.HandlerFunc) (*httptest.Server, *x509.CertPool) {
	t.Helper()
	srv := httptest.NewTLSServer(handler)
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return srv, pool
}

func TestClientIDMetadataDocuments(t *testing.T) {
	const cb = "http://127.0.0.1:7777/cb"
	var fetches atomic.Int32
	var docURL string
	docs := map[string]string{}
	host, pool := cimdHost(t, func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		switch r.URL.Path {
		case "/redirects.json":
			http.Redirect(w, r, "/good.json", http.StatusFound)
		case "/large.json":
			fmt.Fprintf(w, `{"client_id":%q,"redirect_uris":[%q],"pad":%q}`, docURL+"/large.json", cb, strings.Repeat("x", 6<<10))
		case "/slow.json":
			<-r.Context().Done() // never answers; the fetch's time limit ends it
		default:
			if d, ok := docs[r.URL.Path]; ok {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, d)
				return
			}
			http.NotFound(w, r)
		}
	})
	docURL = host.URL
	docs["/good.json"] = fmt.Sprintf(`{"client_id":%q,"client_name":"CIMD App","redirect_uris":[%q]}`, docURL+"/good.json", cb)
	docs["/mismatch.json"] = fmt.Sprintf(`{"client_id":%q,"redirect_uris":[%q]}`, docURL+"/other.json", cb)
	docs["/secret.json"] = fmt.Sprintf(`{"client_id":%q,"redirect_uris":[%q],"token_endpoint_auth_method":"client_secret_basic"}`, docURL+"/secret.json", cb)
	docs["/badredirect.json"] = fmt.Sprintf(`{"client_id":%q,"redirect_uris":["http://evil.example/cb"]}`, docURL+"/badredirect.json")

	// The test host is on loopback: this fixture's dialer allows it; the
	// private-address case below uses the real guard.
	dial := (&net.Dialer{}).DialContext
	// A generous bound for the documents that answer (a loaded CI machine
	// can take seconds over a TLS handshake); the slow case has its own
	// short one.
	cimd := CIMDConfig{Timeout: time.Minute}
	short := CIMDConfig{Timeout: 300 * time.Millisecond}
	f := newFixture(t, func(c *Config, d *Deps) {
		c.CIMD = cimd
		d.Fetch = NewFetcher(dial, pool, cimd)
	})

	t.Run("a client identified by its metadata document signs in and gets tokens", func(t *testing.T) {
		client := docURL + "/good.json"
		verifier, challenge := pkce()
		q := f.signIn(f.browser(), f.authzParams(client, cb, challenge), "ann", annPassword)
		status, out := f.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
			"redirect_uri": {cb}, "client_id": {client}, "code_verifier": {verifier}})
		if status != 200 {
			t.Fatalf("%d %v", status, out)
		}
		f.rules.mu.Lock()
		sources := map[string]bool{}
		for _, a := range f.rules.asked {
			sources[a.Source] = true
		}
		f.rules.mu.Unlock()
		if !sources[SourceCIMD] {
			t.Fatal("the document's redirect URI did not pass the redirect rules as cimd")
		}
	})

	t.Run("the document is cached", func(t *testing.T) {
		before := fetches.Load()
		_, challenge := pkce()
		resp, err := f.browser().Get(f.issuer + "/oauth/authorize?" + f.authzParams(docURL+"/good.json", cb, challenge).Encode())
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if fetches.Load() != before {
			t.Fatalf("fetched again: %d fetches", fetches.Load()-before)
		}
	})

	t.Run("the consent page shows the redirect host and warns when localhost-only", func(t *testing.T) {
		_, challenge := pkce()
		b := f.browser()
		resp, _ := b.Get(f.issuer + "/oauth/authorize?" + f.authzParams(docURL+"/good.json", cb, challenge).Encode())
		form := formFields(t, readAll(t, resp))
		form.Set("username", "bob") // bob never consented; enable him for this
		f.users["bob"].Disabled = false
		defer func() { f.users["bob"].Disabled = true }()
		form.Set("password", annPassword)
		resp, _ = b.PostForm(f.issuer+"/oauth/login", form)
		page := readAll(t, resp)
		for _, want := range []string{"127.0.0.1:7777", "only redirects to this computer", "CIMD App", "metadata document"} {
			if !strings.Contains(page, want) {
				t.Fatalf("consent page lacks %q:\n%s", want, page)
			}
		}
	})

	for _, tc := range []struct {
		name, path, inErr string
		fetcher           DocumentFetcher
		cimd              CIMDConfig
	}{
		{"redirects", "/redirects.json", "redirects", nil, cimd},
		{"is too large", "/large.json", "too large", nil, cimd},
		{"is slow", "/slow.json", "did not answer in time", NewFetcher(dial, pool, short), short},
		{"points at a private address", "/good.json", "private or reserved", NewFetcher((&netguard.Exceptions{}).DialContext, pool, cimd), cimd},
		{"names another client_id", "/mismatch.json", "must equal the document's URL", nil, cimd},
		{"asks for a shared secret", "/secret.json", "shared secrets", nil, cimd},
		{"lists an http redirect off loopback", "/badredirect.json", "non-loopback", nil, cimd},
		{"does not exist", "/missing.json", "HTTP 404", nil, cimd},
	} {
		t.Run("a document that "+tc.name+" is invalid_client and audited", func(t *testing.T) {
			g := f
			if tc.fetcher != nil {
				g = newFixture(t, func(c *Config, d *Deps) { c.CIMD = tc.cimd; d.Fetch = tc.fetcher })
			}
			client := docURL + tc.path
			_, challenge := pkce()
			resp, err := g.browser().Get(g.issuer + "/oauth/authorize?" + g.authzParams(client, cb, challenge).Encode())
			if err != nil {
				t.Fatal(err)
			}
			page := readAll(t, resp)
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Location") != "" {
				t.Fatalf("%d %s", resp.StatusCode, page)
			}
			if !g.audit.has("oauth.authorize", audit.OutcomeDenied, "invalid_client") || !g.audit.has("oauth.authorize", audit.OutcomeDenied, tc.inErr) {
				t.Fatalf("no denied entry naming %q: %+v", tc.inErr, g.audit.snapshot())
			}
			status, out := g.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {client}, "code_verifier": {"y"}})
			if status != 401 || out["error"] != ErrInvalidClient {
				t.Fatalf("token endpoint: %d %v", status, out)
			}
		})
	}

	for _, bad := range []string{"https://app.example", "https://app.example/", "https://u@app.example/c.json", "https://app.example/a/../c.json"} {
		t.Run("the client_id URL "+bad+" is refused before any fetch", func(t *testing.T) {
			if _, e := f.srv.cimdClient(context.Background(), bad); e == nil || e.Code != ErrInvalidClient {
				t.Fatalf("%v", e)
			}
		})
	}
}
