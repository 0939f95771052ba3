package oauth

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
)

func TestAttempts(t *testing.T) {
	clock := &testClock{t: time.Unix(1_000_000, 0)}
	a := newAttempts(3, time.Minute, clock.Now)
	for i := range 3 {
		if b, _ := a.blocked("k"); b {
			t.Fatalf("blocked after %d failures", i)
		}
		a.add("k")
	}
	if b, until := a.blocked("k"); !b || !until.Equal(clock.Now().Add(time.Minute)) {
		t.Fatalf("not blocked after 3 failures (%v, %v)", b, until)
	}
	if b, _ := a.blocked("other"); b {
		t.Fatal("another key is blocked")
	}
	clock.Add(time.Minute)
	if b, _ := a.blocked("k"); b {
		t.Fatal("still blocked after the window")
	}
	a.add("k")
	a.add("k")
	a.clear("k")
	a.add("k")
	a.add("k")
	if b, _ := a.blocked("k"); b {
		t.Fatal("a cleared key kept its failures")
	}
	off := newAttempts(-1, time.Minute, clock.Now)
	for range 100 {
		off.add("k")
	}
	if b, _ := off.blocked("k"); b {
		t.Fatal("a disabled limit blocked")
	}
	big := newAttempts(1, time.Hour, clock.Now)
	for i := range maxAttemptKeys + 50 {
		big.add(fmt.Sprint(i))
	}
	if len(big.seen) > maxAttemptKeys {
		t.Fatalf("%d keys kept, at most %d", len(big.seen), maxAttemptKeys)
	}
}

func TestSignInFailureLimits(t *testing.T) {
	f := newFixture(t, func(c *Config, _ *Deps) { c.SignInFailuresPerUser, c.SignInFailuresPerIP = 3, 5 })
	for _, u := range []string{"cy", "di", "ed"} {
		f.users[u] = &auth.User{ID: u}
		if err := f.srv.SetPassword(t.Context(), u, annPassword); err != nil {
			t.Fatal(err)
		}
	}
	client := f.register("http://127.0.0.1:7777/cb")
	try := func(user, password string) string {
		t.Helper()
		_, challenge := pkce()
		b := f.browser()
		resp, err := b.Get(f.issuer + "/oauth/authorize?" + f.authzParams(client, "http://127.0.0.1:7777/cb", challenge).Encode())
		if err != nil {
			t.Fatal(err)
		}
		form := formFields(t, readAll(t, resp))
		form.Set("username", user)
		form.Set("password", password)
		resp, err = b.PostForm(f.issuer+"/oauth/login", form)
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(t, resp)
		switch {
		case resp.StatusCode == http.StatusOK && strings.Contains(page, "Allow access?"):
			return "signed in"
		case strings.Contains(page, "Too many failed sign-ins"):
			return "blocked"
		case strings.Contains(page, "Wrong user name or password"):
			return "wrong"
		}
		t.Fatalf("%d\n%s", resp.StatusCode, page)
		return ""
	}
	for i := range 3 {
		if got := try("ann", "not the password"); got != "wrong" {
			t.Fatalf("failure %d: %s", i+1, got)
		}
	}
	if got := try("ann", annPassword); got != "blocked" {
		t.Fatalf("the right password after 3 failures: %s, want blocked", got)
	}
	if !f.audit.has("oauth.login", audit.OutcomeDenied, "too many failed sign-ins") {
		t.Fatal("the refusal is not audited")
	}
	if got := try("cy", annPassword); got != "signed in" {
		t.Fatalf("another user from the same address after 3 failures: %s", got)
	}
	// Two more failures from this address (5 in all) block it for everyone.
	try("di", "wrong")
	try("di", "wrong")
	if got := try("ed", annPassword); got != "blocked" {
		t.Fatalf("a user from an address with 5 failures: %s, want blocked", got)
	}
	f.clock.Add(DefaultSignInWindow)
	if got := try("ann", annPassword); got != "signed in" {
		t.Fatalf("after the window: %s", got)
	}
}

func TestRegistrationsPerAddress(t *testing.T) {
	f := newFixture(t, func(c *Config, _ *Deps) { c.RegistrationsPerIPPerHour = 2 })
	body := `{"client_name":"x","redirect_uris":["http://127.0.0.1:7777/cb"],"token_endpoint_auth_method":"none","application_type":"native"}`
	for i := range 3 {
		resp, err := plain().Post(f.issuer+"/oauth/register", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(t, resp)
		want := http.StatusCreated
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if resp.StatusCode != want {
			t.Fatalf("registration %d: %d, want %d\n%s", i+1, resp.StatusCode, want, page)
		}
		if i == 2 && (!strings.Contains(page, "from your address") || resp.Header.Get("Retry-After") == "") {
			t.Fatalf("the refusal does not say why or when: %v %s", resp.Header, page)
		}
	}
	if !f.audit.has("oauth.register", audit.OutcomeDenied, "from your address") {
		t.Fatal("the refusal is not audited")
	}
	f.clock.Add(time.Hour)
	resp, err := plain().Post(f.issuer+"/oauth/register", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if page := readAll(t, resp); resp.StatusCode != http.StatusCreated {
		t.Fatalf("after the hour: %d, want 201\n%s", resp.StatusCode, page)
	}
}
