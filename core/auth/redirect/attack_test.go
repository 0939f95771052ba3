package redirect

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// attack is one hostile redirect URI: what it tries, and what the gateway
// must answer (Blocked with a class, or Pending: never Allowed).
type attack struct {
	name  string
	uri   string
	want  Outcome
	class Class // for a refusal before the lists; "" when a rule or nothing decides
}

var attacks = []attack{
	// Look-alike hosts: no rule matches, so they pause for an admin.
	{"allowed host as a subdomain of another", "https://good.com.evil.com/cb", Pending, ""},
	{"allowed host glued to another name", "https://evilgood.com/cb", Pending, ""},
	{"other top-level domain", "https://good.co/cb", Pending, ""},
	{"digits for letters", "https://g00d.com/cb", Pending, ""},
	{"dot turned into a hyphen", "https://good-com.evil.com/cb", Pending, ""},
	{"allowed wildcard parent under another domain", "https://example.com.attacker.io/cb", Pending, ""},
	{"exact host as a prefix of another", "https://app.example.com.evil.com/oauth/callback", Pending, ""},
	{"labels run together", "https://appexample.com/oauth/callback", Pending, ""},
	{"a hyphen for a dot", "https://app-example.com/oauth/callback", Pending, ""},

	// Userinfo: the host is what follows '@'.
	{"allowed host as userinfo", "https://good.com@evil.com/cb", Blocked, ClassUserinfo},
	{"allowed host as user and password", "https://good.com:443@evil.com/cb", Blocked, ClassUserinfo},
	{"userinfo even on the allowed host", "https://user@good.com/cb", Blocked, ClassUserinfo},
	{"encoded at sign in the host", "https://good.com%40evil.com/cb", Blocked, ClassHost},
	{"backslash before the at sign", `https://evil.com\@good.com/cb`, Blocked, ClassSyntax},
	{"at sign in a private-use scheme authority", "com.example.app://good@evil/cb", Blocked, ClassUserinfo},

	// Trailing dots and empty labels.
	{"trailing dot on the allowed host", "https://good.com./cb", Blocked, ClassHost},
	{"trailing dot on a blocked host", "https://evil.com./cb", Blocked, ClassHost},
	{"two trailing dots", "https://good.com../cb", Blocked, ClassHost},
	{"leading dot", "https://.good.com/cb", Blocked, ClassHost},
	{"empty label in the middle", "https://app..example.com/cb", Blocked, ClassHost},

	// Case.
	{"blocked host in upper case", "HTTPS://EVIL.COM/cb", Blocked, ""},
	{"blocked host in mixed case", "https://EviL.cOm/cb", Blocked, ""},
	{"path in another case", "https://good.com/CB", Pending, ""},

	// IDN, punycode, mixed scripts.
	{"Cyrillic o's in a Latin name", "https://gооd.com/cb", Blocked, ClassIDN},
	{"the same as punycode", "https://xn--gd-fmca.com/cb", Blocked, ClassIDN},
	{"Cyrillic a under the allowed wildcard", "https://xn--pple-43d.example.com/cb", Blocked, ClassIDN},
	{"whole-script Cyrillic look-alike", "https://аррӏе.com/cb", Blocked, ClassIDN},
	{"whole-script look-alike as punycode", "https://xn--80ak6aa92e.com/cb", Blocked, ClassIDN},
	{"whole-script look-alike under the wildcard", "https://xn--80ak6aa92e.example.com/cb", Blocked, ClassIDN},
	{"full-width letters", "https://ｇｏｏｄ.com/cb", Blocked, ClassIDN},
	{"ideographic full stop", "https://good。com/cb", Blocked, ClassIDN},
	{"invalid punycode", "https://xn--zz.com/cb", Blocked, ClassIDN},
	{"Unicode upper case (a mapping)", "https://BÜCHER.de/cb", Blocked, ClassIDN},
	{"soft hyphen inside the name", "https://goo\u00add.com/cb", Blocked, ClassIDN},
	{"zero-width space", "https://good.com\u200b/cb", Blocked, ClassSyntax},
	{"right-to-left override", "https://good.com\u202e/bc", Blocked, ClassSyntax},
	{"single-script IDN under the wildcard", "https://bücher.example.com/cb", Pending, ""},
	{"Greek omicron look-alike", "https://gοοd.com/cb", Blocked, ClassIDN},

	// Ports.
	{"non-default port on the allowed host", "https://good.com:8443/cb", Pending, ""},
	{"port zero", "https://good.com:0/cb", Blocked, ClassPort},
	{"port out of range", "https://good.com:99999/cb", Blocked, ClassPort},
	{"letters after the port", "https://good.com:443abc/cb", Blocked, ClassPort},
	{"negative port", "https://good.com:-443/cb", Blocked, ClassPort},
	{"other port on the exact host", "https://app.example.com:444/oauth/callback", Pending, ""},
	{"port under a wildcard without one", "https://foo.example.com:8443/cb", Pending, ""},

	// Percent-encoding in host and path.
	{"encoded letter in the host", "https://%65vil.com/cb", Blocked, ClassHost},
	{"encoded dot in the host", "https://good.com%2eevil.com/cb", Blocked, ClassHost},
	{"encoded slash in the path", "https://good.com/cb%2f..%2fevil", Blocked, ClassPath},
	{"encoded backslash in the path", "https://good.com/cb%5Cevil", Blocked, ClassPath},
	{"encoded dot-dot segment", "https://good.com/%2e%2e/cb", Blocked, ClassPath},
	{"upper-case encoded dot-dot", "https://good.com/cb/%2E%2E/evil", Blocked, ClassPath},
	{"half-encoded dot-dot", "https://good.com/cb/.%2e/evil", Blocked, ClassPath},
	{"encoded NUL", "https://good.com/cb%00", Blocked, ClassPath},
	{"double-encoded dots", "https://good.com/cb/%252e%252e/evil", Blocked, ClassPath},
	{"double encoding assembled by normalisation", "https://good.com/cb%250%30", Blocked, ClassPath},
	{"invalid escape", "https://good.com/c%zzb", Blocked, ClassPath},
	{"raw non-ASCII in the path", "https://good.com/cé", Blocked, ClassPath},
	{"angle brackets in the path", "https://good.com/cb<script>", Blocked, ClassPath},

	// Path traversal.
	{"dot-dot out of the callback", "https://good.com/cb/../evil", Blocked, ClassPath},
	{"dot-dot into the callback", "https://good.com/x/../cb", Blocked, ClassPath},
	{"single dot segment", "https://good.com/./cb", Blocked, ClassPath},
	{"Tomcat path parameter", "https://good.com/cb/..;/evil", Blocked, ClassPath},
	{"scheme-relative path", "https://good.com//evil.com/cb", Blocked, ClassPath},
	{"traversal under the wildcard", "https://foo.example.com/cb/../x", Blocked, ClassPath},
	{"traversal in a private-use scheme", "com.example.app:/oauth2redirect/../evil", Blocked, ClassPath},
	{"trailing slash", "https://good.com/cb/", Pending, ""},
	{"longer path (no prefix matching)", "https://good.com/cb/extra", Pending, ""},

	// Query and fragment.
	{"fragment", "https://good.com/cb#frag", Blocked, ClassFragment},
	{"empty fragment", "https://good.com/cb#", Blocked, ClassFragment},
	{"fragment after an allowed query", "https://good.com/cb?tenant=acme#x", Blocked, ClassFragment},
	{"query on an exact rule without one", "https://good.com/cb?x=1", Pending, ""},
	{"allowed query with a parameter added", "https://good.com/cb?tenant=acme&tenant=evil", Pending, ""},
	{"query under a wildcard", "https://foo.example.com/cb?x=1", Pending, ""},
	{"forged code parameter", "https://good.com/cb?code=attacker", Blocked, ClassQuery},
	{"forged state parameter", "https://good.com/cb?state=x", Blocked, ClassQuery},
	{"forged iss parameter", "https://good.com/cb?ISS=x", Blocked, ClassQuery},
	{"encoded response parameter name", "https://good.com/cb?%63ode=x", Blocked, ClassQuery},

	// Open-redirect chaining through parameters of an allowed host.
	{"URL in a parameter", "https://good.com/cb?next=https://evil.com", Blocked, ClassChain},
	{"encoded URL in a parameter", "https://good.com/cb?next=https%3A%2F%2Fevil.com", Blocked, ClassChain},
	{"double-encoded URL", "https://good.com/cb?next=https%253A%252F%252Fevil.com", Blocked, ClassChain},
	{"scheme-relative URL", "https://good.com/cb?next=%2F%2Fevil.com", Blocked, ClassChain},
	{"backslash URL", "https://good.com/cb?next=/%5Cevil.com", Blocked, ClassChain},
	{"scheme without slashes", "https://good.com/cb?next=https:evil.com", Blocked, ClassChain},
	{"javascript in a parameter", "https://good.com/cb?u=javascript:alert(1)", Blocked, ClassChain},
	{"URL under the wildcard", "https://foo.example.com/cb?redirect_uri=https://evil.com", Blocked, ClassChain},
	{"URL in a private-use scheme query", "com.example.app:/oauth2redirect?next=https://evil.com", Blocked, ClassChain},
	{"URL as a parameter name", "https://good.com/cb?https://evil.com", Blocked, ClassChain},

	// Scheme downgrade and loopback look-alikes.
	{"http to the allowed host", "http://good.com/cb", Blocked, ClassDowngrade},
	{"http to the exact host", "http://app.example.com/oauth/callback", Blocked, ClassDowngrade},
	{"http under the wildcard", "http://foo.example.com/cb", Blocked, ClassDowngrade},
	{"other loopback address", "http://127.0.0.2/callback", Blocked, ClassDowngrade},
	{"localhost as a subdomain", "http://localhost.evil.com/callback", Blocked, ClassDowngrade},
	{"loopback address as a subdomain", "http://127.0.0.1.nip.io/callback", Blocked, ClassDowngrade},
	{"loopback as one decimal number", "http://2130706433/callback", Blocked, ClassHost},
	{"loopback in hex", "http://0x7f.0.0.1/callback", Blocked, ClassHost},
	{"loopback shortened", "http://127.1/callback", Blocked, ClassHost},
	{"loopback in octal", "http://017.0.0.1/callback", Blocked, ClassHost},
	{"IPv4-mapped loopback", "http://[::ffff:127.0.0.1]/callback", Blocked, ClassDowngrade},
	{"IPv6 zone", "http://[::1%25eth0]/callback", Blocked, ClassHost},
	{"loopback, other path", "http://127.0.0.1:8080/evil", Pending, ""},

	// Custom and dangerous schemes.
	{"javascript", "javascript:alert(1)", Blocked, ClassScheme},
	{"javascript in mixed case with an authority", "JavaScript://good.com/%0aalert(1)", Blocked, ClassScheme},
	{"data", "data:text/html,hi", Blocked, ClassScheme},
	{"file", "file:///etc/passwd", Blocked, ClassScheme},
	{"vbscript", "vbscript:msgbox", Blocked, ClassScheme},
	{"websocket", "wss://good.com/cb", Blocked, ClassScheme},
	{"blob", "blob:https://good.com/uuid", Blocked, ClassScheme},
	{"about", "about:blank", Blocked, ClassScheme},
	{"private-use scheme not on the list", "com.evil.app:/oauth2redirect", Pending, ""},
	{"allowed private-use scheme, authority form", "com.example.app://oauth2redirect", Pending, ""},
	{"opaque private-use scheme", "com.example.app:oauth2redirect", Blocked, ClassSyntax},

	// Wildcard abuse.
	{"two labels under the wildcard", "https://a.b.example.com/cb", Pending, ""},
	{"the wildcard's own domain", "https://example.com/cb", Pending, ""},
	{"blocked host under the allowed wildcard", "https://legacy.example.com/cb", Blocked, ""},
	{"blocked wildcard", "https://foo.attacker.net/cb", Blocked, ""},
	{"a literal star", "https://*.example.com/cb", Blocked, ClassHost},
	{"underscore label", "https://foo_bar.example.com/cb", Blocked, ClassHost},

	// Malformed.
	{"empty", "", Blocked, ClassSyntax},
	{"leading space", " https://good.com/cb", Blocked, ClassSyntax},
	{"trailing newline", "https://good.com/cb\n", Blocked, ClassSyntax},
	{"tab in the host", "https://good\t.com/cb", Blocked, ClassSyntax},
	{"scheme-relative", "//good.com/cb", Blocked, ClassSyntax},
	{"no scheme", "good.com/cb", Blocked, ClassSyntax},
	{"one slash after https", "https:/good.com/cb", Blocked, ClassHost},
	{"no slashes after https", "https:good.com/cb", Blocked, ClassHost},
	{"too long", "https://good.com/cb?tenant=" + strings.Repeat("a", MaxURILength), Blocked, ClassSyntax},
	{"invalid UTF-8", "https://good.com/c\xffb", Blocked, ClassSyntax},
	{"unclosed IPv6", "https://[::1/cb", Blocked, ClassHost},
	{"not an IPv6 address", "https://[evil.com]/cb", Blocked, ClassHost},
}

// allowedURIs are the legitimate spellings of the allowed rules: they
// pass, however they are written.
var allowedURIs = []struct{ uri, rule string }{
	{"https://app.example.com/oauth/callback", "https://app.example.com/oauth/callback"},
	{"HTTPS://APP.EXAMPLE.COM/oauth/callback", "https://app.example.com/oauth/callback"},
	{"https://app.example.com:443/oauth/callback", "https://app.example.com/oauth/callback"},
	{"https://foo.example.com/cb", "https://*.example.com/cb"},
	{"https://foo-2.example.com/cb", "https://*.example.com/cb"},
	{"https://good.com/cb", "https://good.com/cb"},
	{"https://good.com/c%62", "https://good.com/cb"},
	{"https://good.com/cb?", "https://good.com/cb"},
	{"https://good.com/cb?tenant=acme", "https://good.com/cb?tenant=acme"},
	{"https://claude.ai/api/mcp/auth_callback", "https://claude.ai/api/mcp/auth_callback"},
	{"http://127.0.0.1:53123/callback", "http://127.0.0.1/callback"},
	{"http://127.0.0.1/callback", "http://127.0.0.1/callback"},
	{"http://localhost:8080/callback", "http://localhost/callback"},
	{"http://[::1]:9000/callback", "http://[::1]/callback"},
	{"http://[0:0:0:0:0:0:0:1]/callback", "http://[::1]/callback"},
	{"com.example.app:/oauth2redirect", "com.example.app:/oauth2redirect"},
	{"COM.EXAMPLE.APP:/oauth2redirect", "com.example.app:/oauth2redirect"},
	{"https://bücher.de/cb", "https://xn--bcher-kva.de/cb"},
	{"https://xn--bcher-kva.de/cb", "https://xn--bcher-kva.de/cb"},
}

func TestAttackTableIsNeverAllowed(t *testing.T) {
	if len(attacks) < 60 {
		t.Fatalf("the attack table has %d URIs; it must have at least 60", len(attacks))
	}
	r, _, log := newTestRules(t)
	ctx := context.Background()
	for i, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			before := len(log.all())
			d, err := r.Decide(ctx, Request{URI: a.uri, ClientID: "https://client.example/meta.json", ClientName: "Client", User: "alice", Source: "authorize"})
			if err != nil {
				t.Fatal(err)
			}
			if d.Outcome == Allowed {
				t.Fatalf("%q was allowed by %q", a.uri, d.Rule)
			}
			if d.Outcome != a.want || d.Class != a.class {
				t.Errorf("%q: got %s (class %q: %s), want %s (class %q)", a.uri, d.Outcome, d.Class, d.Reason, a.want, a.class)
			}
			if d.Outcome == Blocked && !strings.HasPrefix(d.Reason, BlockedMessage) {
				t.Errorf("blocked reason %q does not start with %q", d.Reason, BlockedMessage)
			}
			if d.Outcome == Pending && d.PendingID == "" {
				t.Errorf("pending without a pending id")
			}
			entries := log.all()[before:]
			if len(entries) != 1 {
				t.Fatalf("decision %d wrote %d audit entries, want 1", i, len(entries))
			}
			e := entries[0]
			wantAction := map[Outcome]string{Blocked: ActionBlock, Pending: ActionPause}[d.Outcome]
			if e.Action != wantAction || e.Decision != string(d.Outcome) || e.Outcome != "denied" || e.Actor != "alice" ||
				e.Details["client_id"] != "https://client.example/meta.json" || e.Details["reason"] != d.Reason {
				t.Errorf("audit entry %+v does not record the decision %+v", e, d)
			}
			if d.Outcome == Pending && e.Details["pending_id"] != d.PendingID {
				t.Errorf("audit entry names pending %v, want %s", e.Details["pending_id"], d.PendingID)
			}
		})
	}
}

func TestAllowedURIsPass(t *testing.T) {
	r, _, log := newTestRules(t)
	for _, a := range allowedURIs {
		t.Run(a.uri, func(t *testing.T) {
			before := len(log.all())
			d, err := r.Decide(context.Background(), Request{URI: a.uri, ClientID: "cid", Source: "authorize"})
			if err != nil {
				t.Fatal(err)
			}
			if d.Outcome != Allowed || d.Rule != a.rule {
				t.Fatalf("%q: got %s by %q (%s), want allowed by %q", a.uri, d.Outcome, d.Rule, d.Reason, a.rule)
			}
			entries := log.all()[before:]
			if len(entries) != 1 || entries[0].Action != ActionAllow || entries[0].Outcome != "success" ||
				entries[0].Details["rule"] != a.rule || entries[0].Actor != "client:cid" {
				t.Fatalf("audit entries %+v do not record the allow", entries)
			}
		})
	}
}

// TestAttackClassesAreAllCovered keeps the table honest: every class of
// refusal appears, and so do pauses and rule-decided blocks.
func TestAttackClassesAreAllCovered(t *testing.T) {
	seen := map[string]int{}
	for _, a := range attacks {
		seen[fmt.Sprintf("%s/%s", a.want, a.class)]++
	}
	for _, c := range []Class{ClassSyntax, ClassFragment, ClassScheme, ClassDowngrade, ClassUserinfo, ClassHost, ClassIDN, ClassPort, ClassPath, ClassQuery, ClassChain} {
		if seen["blocked/"+string(c)] == 0 {
			t.Errorf("no attack of class %s", c)
		}
	}
	if seen["pending/"] == 0 || seen["blocked/"] == 0 {
		t.Errorf("the table needs pauses and blocks by rule: %v", seen)
	}
}
