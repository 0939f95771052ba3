package redirect

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzDecide runs the matcher on arbitrary URIs against the realistic
// lists: it never panics, normalisation is idempotent, a URI a blocked
// rule matches is never allowed, and whatever is allowed reaches, as
// net/url reads it, the host the allowing rule names (no parser
// confusion lets a URI through to another host). Seeds run in every
// `go test`; `make fuzz` runs it longer.
func FuzzDecide(f *testing.F) {
	for _, a := range attacks {
		f.Add(a.uri)
	}
	for _, a := range allowedURIs {
		f.Add(a.uri)
	}
	r, _, _ := newTestRules(f)
	f.Fuzz(func(t *testing.T, raw string) { checkProperties(t, r, raw) })
}

// TestPropertiesHoldOnGeneratedURIs runs the fuzz target's checks on
// every combination of hostile and ordinary URI parts: a brief,
// deterministic fuzz in every `go test`.
func TestPropertiesHoldOnGeneratedURIs(t *testing.T) {
	r, _, _ := newTestRules(t)
	schemes := []string{"https://", "http://", "HTTPS://", "https:", "com.example.app:", "com.example.app://", "javascript:", "//"}
	hosts := []string{"good.com", "foo.example.com", "app.example.com", "127.0.0.1", "[::1]", "localhost", "evil.com",
		"good.com@evil.com", "good.com.", "xn--80ak6aa92e.example.com", "bücher.de", "%67ood.com", "good.com:443", "good.com:8443",
		"a.b.example.com", "example.com", "[::ffff:127.0.0.1]", "0x7f.0.0.1", "legacy.example.com", "x.attacker.net", ""}
	paths := []string{"/cb", "/oauth/callback", "/callback", "/oauth2redirect", "", "/cb/../evil", "/%2e%2e/cb", "/c%62", "//cb", "/cb/", "/CB"}
	queries := []string{"", "?", "?tenant=acme", "?next=https://evil.com", "?code=x", "?x=%2F%2Fevil", "#f", "?tenant=acme#"}
	n := 0
	for _, s := range schemes {
		for _, h := range hosts {
			for _, p := range paths {
				for _, q := range queries {
					checkProperties(t, r, s+h+p+q)
					n++
				}
			}
		}
	}
	if n < 10000 {
		t.Fatalf("only %d URIs generated", n)
	}
}

// checkProperties: the decision of raw is consistent with its normal
// form, the normal form is stable, blocked rules win, and an allowed URI
// reaches the allowing rule's host as net/url reads it.
func checkProperties(t *testing.T, r *Rules, raw string) {
	t.Helper()
	m := r.m.Load()
	{
		d := r.Check(raw)
		u, err := Normalize(raw)
		if err != nil {
			if d.Outcome != Blocked || ClassOf(err) == "" {
				t.Fatalf("%q refused (%v) but decided %+v", raw, err, d)
			}
			return
		}
		again, err := Normalize(u.String())
		if err != nil || again != u {
			t.Fatalf("normalisation not idempotent: %q → %q → %+v, %v", raw, u.String(), again, err)
		}
		if m.blocked.match(u) != nil && d.Outcome != Blocked {
			t.Fatalf("%q matches a blocked rule but is %s", raw, d.Outcome)
		}
		if d.Outcome != Allowed {
			return
		}
		if m.allowed.match(u) == nil {
			t.Fatalf("%q allowed with no allowed rule matching", raw)
		}
		checkReachesRuleHost(t, raw, d.Rule)
	}
}

// checkReachesRuleHost is the oracle: the standard library's reading of
// an allowed URI has the rule's scheme and host (or a one-label
// subdomain of a wildcard's domain), no userinfo and no fragment.
func checkReachesRuleHost(t *testing.T, raw, rule string) {
	t.Helper()
	got, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("allowed %q, which net/url cannot parse: %v", raw, err)
	}
	want, err := url.Parse(strings.Replace(rule, "*.", "wildcard.", 1))
	if err != nil {
		t.Fatalf("rule %q: %v", rule, err)
	}
	if got.User != nil || got.Fragment != "" || strings.ToLower(got.Scheme) != want.Scheme {
		t.Fatalf("allowed %q by %q: userinfo, fragment or scheme differ", raw, rule)
	}
	host, wantHost := strings.ToLower(got.Hostname()), want.Hostname()
	if u, err := Normalize(raw); err == nil && u.IDN {
		host = strings.Trim(strings.SplitN(u.Host, ":", 2)[0], "[]")
	}
	if strings.HasPrefix(wantHost, "wildcard.") {
		parent := strings.TrimPrefix(wantHost, "wildcard")
		label, rest, _ := strings.Cut(host, ".")
		if "."+rest != parent || label == "" {
			t.Fatalf("allowed %q (host %q) by %q", raw, host, rule)
		}
		return
	}
	if host != strings.Trim(wantHost, "[]") && !(got.Hostname() != "" && sameIPv6(host, wantHost)) {
		t.Fatalf("allowed %q (host %q) by %q (host %q)", raw, host, rule, wantHost)
	}
}

func sameIPv6(a, b string) bool {
	ua, err1 := Normalize("https://[" + strings.Trim(a, "[]") + "]/")
	ub, err2 := Normalize("https://[" + strings.Trim(b, "[]") + "]/")
	return err1 == nil && err2 == nil && ua.Host == ub.Host
}
