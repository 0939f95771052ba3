//go:build e2e

package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
)

// TestRedirectRulesThroughTheCLI manages OAuth redirect-URI rules with
// the real binary's CLI against a running gateway: an admin allows and
// blocks, a member may not, check answers as the matcher does, the rules
// survive a restart and every change is in the audit log.
func TestRedirectRulesThroughTheCLI(t *testing.T) {
	dir := t.TempDir()
	g := startGateway(t, dir)
	ada := g.addMember(t, "ada", "admin")
	mia := g.addMember(t, "mia", "member")

	added := cliJSON(t, g, ada, "redirects", "allow", "HTTPS://*.Example.com/oauth/callback", "--note", "our apps")
	if rule, _ := added["rule"].(map[string]any); rule["uri"] != "https://*.example.com/oauth/callback" || rule["created_by"] != "ada" {
		t.Fatalf("allow: %v", added)
	}
	cli(t, g, ada, false, "redirects", "block", "https://evil.example.net/cb")
	if msg := cli(t, g, mia, true, "redirects", "allow", "https://mine.example.org/cb"); !strings.Contains(msg, "HTTP 403") {
		t.Fatalf("a member changed the rules: %s", msg)
	}
	if msg := cli(t, g, ada, true, "redirects", "allow", "https://*.github.io/cb"); !strings.Contains(msg, "public suffix") {
		t.Fatalf("a wildcard over a public suffix: %s", msg)
	}
	for uri, want := range map[string]string{
		"https://app.example.com/oauth/callback":      "allowed",
		"https://app.example.com/oauth/callback?x=1":  "pending",
		"https://app.example.com@evil.net/oauth/cb":   "blocked",
		"https://evil.example.net/cb":                 "blocked",
		"http://app.example.com/oauth/callback":       "blocked",
		"https://xn--80ak6aa92e.example.com/oauth/cb": "blocked",
	} {
		if out := cliJSON(t, g, ada, "redirects", "check", uri); out["outcome"] != want {
			t.Errorf("check %s: %v, want %s", uri, out, want)
		}
	}
	g.proc.stop()

	g2 := startGateway(t, dir)
	list := cli(t, g2, ada, false, "redirects", "list")
	for _, want := range []string{"allowed  https://*.example.com/oauth/callback  ada", "blocked  https://evil.example.net/cb"} {
		if !strings.Contains(list, want) {
			t.Errorf("after a restart the list lacks %q:\n%s", want, list)
		}
	}
	cli(t, g2, ada, false, "redirects", "remove", "https://evil.example.net/cb")
	if out := cliJSON(t, g2, ada, "redirects", "check", "https://evil.example.net/cb"); out["outcome"] != "pending" {
		t.Errorf("a removed block still applies: %v", out)
	}
	var page struct {
		Entries []audit.Entry `json:"entries"`
	}
	if code := g2.admin(http.MethodGet, "/audit?action=redirect.", nil, &page); code != http.StatusOK {
		t.Fatalf("audit: HTTP %d", code)
	}
	var got []string
	for _, e := range page.Entries {
		got = append(got, e.Action+" "+e.Actor+" "+e.Target)
	}
	for _, want := range []string{"redirect.rule.add ada https://*.example.com/oauth/callback", "redirect.rule.add ada https://evil.example.net/cb",
		"redirect.rule.remove ada https://evil.example.net/cb"} {
		if !contains(got, want) {
			t.Errorf("audit lacks %q: %v", want, got)
		}
	}
}
