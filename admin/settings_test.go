package admin

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// TestPrivateUpstreamSettings: an owner allows a private block at run
// time (no restart, no environment variable); admins may read but not
// change it; the change is audited and applies to the SSRF guard and to
// the create-time notice.
func TestPrivateUpstreamSettings(t *testing.T) {
	f := newFixture(t)
	put := `{"private_upstreams":{"cidrs":["10.0.0.0/24"],"hosts":["wiki.internal"]}}`
	if code, out, _ := f.do(t, admin, http.MethodPut, "/settings", put); code != http.StatusForbidden || !strings.Contains(errMessage(out), "only an owner") {
		t.Fatalf("an admin changed the settings: %d %v", code, out)
	}
	if code, out, _ := f.do(t, owner, http.MethodPut, "/settings", `{"private_upstreams":{"cidrs":["10.0.0.0/33"]}}`); code != http.StatusUnprocessableEntity || errField(out) != "private_upstreams" {
		t.Errorf("a bad CIDR: %d %v", code, out)
	}
	if code, out, _ := f.do(t, owner, http.MethodPut, "/settings", put); code != http.StatusOK {
		t.Fatalf("owner put: %d %v", code, out)
	}
	code, out, _ := f.do(t, auditor, http.MethodGet, "/settings", "")
	pu, _ := out["private_upstreams"].(map[string]any)
	if code != http.StatusOK || len(pu["cidrs"].([]any)) != 1 {
		t.Errorf("auditor get: %d %v", code, out)
	}
	if !f.api.PrivateExceptions.Permits("10.0.0.5", netip.MustParseAddr("10.0.0.5")) || f.api.PrivateExceptions.Permits("10.0.1.5", netip.MustParseAddr("10.0.1.5")) {
		t.Error("the guard's exceptions do not follow the settings")
	}
	if got := f.auditActions(t); !strings.Contains(strings.Join(got, "\n"), "settings.update private_upstreams") {
		t.Errorf("not audited: %v", got)
	}
	// internal.example.com resolves to 10.0.0.5 in the fixture.
	_, out, _ = f.do(t, admin, http.MethodPost, "/connectors", `{"name":"I","slug":"i","url":"https://internal.example.com/mcp","status":"active"}`)
	if n, _ := out["notices"].([]any); len(n) != 0 {
		t.Errorf("an allowed private address still gets a notice: %v", n)
	}
}
