package oauth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/auth/keys"
	"github.com/gatehouse-mcp/gatehouse/core/auth/redirect"
	"github.com/gatehouse-mcp/gatehouse/core/secret"
	"github.com/gatehouse-mcp/gatehouse/core/store"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// users is a test directory.
type users map[string]*auth.User

func (u users) User(_ context.Context, id string) (*auth.User, error) {
	if x, ok := u[id]; ok {
		return x, nil
	}
	return nil, fmt.Errorf("user %q: %w", id, store.ErrNotFound)
}

// rules is a test double of the redirect rules: a URI's outcome by
// exact match, Allowed otherwise; it records what it was asked.
type rules struct {
	mu      sync.Mutex
	outcome map[string]redirect.Outcome
	asked   []redirect.Request
}

func (r *rules) Decide(_ context.Context, req redirect.Request) (redirect.Decision, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, req)
	switch o := r.outcome[req.URI]; o {
	case redirect.Blocked:
		return redirect.Decision{Outcome: o, Rule: "test-block", Reason: "listed as blocked"}, nil
	case redirect.Pending:
		return redirect.Decision{Outcome: o, PendingID: "pend-1", Reason: "on no list"}, nil
	}
	return redirect.Decision{Outcome: redirect.Allowed, Rule: "test-allow"}, nil
}

// auditLog records entries.
type auditLog struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (a *auditLog) Record(e *audit.Entry) {
	a.mu.Lock()
	a.entries = append(a.entries, *e)
	a.mu.Unlock()
}

// snapshot copies the entries recorded so far.
func (a *auditLog) snapshot() []audit.Entry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]audit.Entry(nil), a.entries...)
}

// has reports whether an entry of action with outcome and an error
// containing errPart was recorded.
func (a *auditLog) has(action, outcome, errPart string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.entries {
		if e.Action == action && e.Outcome == outcome && strings.Contains(e.Error, errPart) {
			return true
		}
	}
	return false
}

// fixture is one authorization server over httptest with a signed-in
// user "ann" (password "correct horse battery").
type fixture struct {
	t      testing.TB
	srv    *Server
	http   *httptest.Server
	clock  *testClock
	rules  *rules
	audit  *auditLog
	users  users
	issuer string
}

const annPassword = "correct horse battery"

func newFixture(t testing.TB, mod ...func(*Config, *Deps)) *fixture {
	t.Helper()
	box, err := secret.New(bytes.Repeat([]byte{3}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenInMemory(box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f := &fixture{t: t, clock: &testClock{t: time.Now()}, rules: &rules{outcome: map[string]redirect.Outcome{}}, audit: &auditLog{},
		users: users{"ann": {ID: "ann"}, "bob": {ID: "bob", Disabled: true}}}
	ring, err := keys.Open(context.Background(), st.OAuth(), keys.Config{Purpose: "oauth-access", Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	f.http = httptest.NewServer(mux)
	t.Cleanup(f.http.Close)
	f.issuer = f.http.URL
	cfg := Config{Issuer: f.issuer, PasswordCost: bcrypt.MinCost, Now: f.clock.Now}
	deps := Deps{Store: st.OAuth(), Keys: ring, Users: f.users, Redirects: f.rules, Audit: f.audit, Log: zerolog.Nop()}
	for _, m := range mod {
		m(&cfg, &deps)
	}
	f.srv, err = New(context.Background(), cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", f.srv)
	for _, u := range []string{"ann", "bob"} {
		if err := f.srv.SetPassword(context.Background(), u, annPassword); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// testHTTPBound turns a hung request into a failure naming it instead of
// the package's 10-minute timeout; it is not a speed assertion.
const testHTTPBound = 2 * time.Minute

// plain is an HTTP client without cookies, bounded like browser.
func plain() *http.Client { return &http.Client{Timeout: testHTTPBound} }

// browser is an HTTP client with cookies that does not follow redirects.
func (f *fixture) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: testHTTPBound, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// register registers a public DCR client with one loopback redirect URI.
func (f *fixture) register(redirectURI string) string {
	f.t.Helper()
	body := fmt.Sprintf(`{"client_name":"Test Client","redirect_uris":[%q],"token_endpoint_auth_method":"none","application_type":"native"}`, redirectURI)
	resp, err := plain().Post(f.issuer+"/oauth/register", "application/json", strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusCreated {
		f.t.Fatalf("register: %d %v", resp.StatusCode, out)
	}
	return out["client_id"].(string)
}

// pkce is a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authzParams is a valid authorization request.
func (f *fixture) authzParams(client, redirectURI, challenge string) url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {client}, "redirect_uri": {redirectURI},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"st-1"},
		"resource": {f.issuer + "/mcp/github"}, "scope": {"mcp"}}
}

var hiddenField = regexp.MustCompile(`name="(request|csrf)" value="([^"]+)"`)

// formFields reads the hidden request and csrf fields of a page.
func formFields(t testing.TB, page string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], m[2])
	}
	if v.Get("request") == "" || v.Get("csrf") == "" {
		t.Fatalf("no form fields in page:\n%s", page)
	}
	return v
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// signIn runs authorize → login → consent in browser b and returns the
// redirect's query.
func (f *fixture) signIn(b *http.Client, params url.Values, user, password string) url.Values {
	f.t.Helper()
	resp, err := b.Get(f.issuer + "/oauth/authorize?" + params.Encode())
	if err != nil {
		f.t.Fatal(err)
	}
	page := readAll(f.t, resp)
	if resp.StatusCode == http.StatusFound {
		return redirectQuery(f.t, resp)
	}
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("authorize: %d\n%s", resp.StatusCode, page)
	}
	form := formFields(f.t, page)
	form.Set("username", user)
	form.Set("password", password)
	resp, err = b.PostForm(f.issuer+"/oauth/login", form)
	if err != nil {
		f.t.Fatal(err)
	}
	page = readAll(f.t, resp)
	if resp.StatusCode == http.StatusFound {
		return redirectQuery(f.t, resp)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Allow access?") {
		f.t.Fatalf("login: %d\n%s", resp.StatusCode, page)
	}
	form = formFields(f.t, page)
	form.Set("decision", "allow")
	resp, err = b.PostForm(f.issuer+"/oauth/consent", form)
	if err != nil {
		f.t.Fatal(err)
	}
	readAll(f.t, resp)
	if resp.StatusCode != http.StatusFound {
		f.t.Fatalf("consent: %d", resp.StatusCode)
	}
	return redirectQuery(f.t, resp)
}

func redirectQuery(t testing.TB, resp *http.Response) url.Values {
	t.Helper()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query()
}

// tokenRequest posts form to the token endpoint and decodes the answer.
func (f *fixture) tokenRequest(form url.Values) (int, map[string]any) {
	f.t.Helper()
	return f.post("/oauth/token", form)
}

// get fetches a JSON document from the server.
func (f *fixture) get(path string) (int, map[string]any) {
	f.t.Helper()
	resp, err := plain().Get(f.issuer + path)
	return f.decoded(resp, err)
}

func (f *fixture) post(path string, form url.Values) (int, map[string]any) {
	f.t.Helper()
	resp, err := plain().PostForm(f.issuer+path, form)
	return f.decoded(resp, err)
}

// decoded is a response's status and JSON object.
func (f *fixture) decoded(resp *http.Response, err error) (int, map[string]any) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// authenticate presents tok to the provider as a request to path.
func (f *fixture) authenticate(tok, path string) (auth.Principal, error) {
	return f.srv.AuthenticateHeader(auth.WithRequestPath(context.Background(), path), []byte("Bearer "+tok))
}

// grant runs a whole flow for a new DCR client and returns the client,
// verifier-checked tokens.
func (f *fixture) grant() (client string, tokens map[string]any) {
	f.t.Helper()
	const cb = "http://127.0.0.1:9999/callback"
	client = f.register(cb)
	verifier, challenge := pkce()
	q := f.signIn(f.browser(), f.authzParams(client, cb, challenge), "ann", annPassword)
	status, out := f.tokenRequest(url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {cb}, "client_id": {client}, "code_verifier": {verifier}, "resource": {f.issuer + "/mcp/github"}})
	if status != http.StatusOK {
		f.t.Fatalf("token: %d %v", status, out)
	}
	return client, out
}
