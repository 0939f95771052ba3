package admin

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestMaskLiterals(t *testing.T) {
	tests := []struct{ in, want string }{
		{"static-SECRET-{TENANT}", "[redacted]{TENANT}"},
		{"{TOKEN}", "{TOKEN}"},
		{"Bearer {TOKEN}", "[redacted]{TOKEN}"},
		{"{A}:{B}", "{A}[redacted]{B}"},
		{"{A}{B}", "{A}{B}"},
		{"pre-{A}-post", "[redacted]{A}[redacted]"},
	}
	for _, tt := range tests {
		if got := maskLiterals(tt.in); got != tt.want {
			t.Errorf("maskLiterals(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestHeaderLiteralsAreHidden: a member reading a connector whose header
// mixes a literal secret with a placeholder sees the placeholder's name
// only; an admin sending the shown value back keeps the stored one.
func TestHeaderLiteralsAreHidden(t *testing.T) {
	f := newFixture(t)
	body := `{"name":"Tenant API","slug":"tenant","url":"https://api.example.com/mcp","headers":{"X-Key":"static-SECRET-{TENANT}"},"status":"active"}`
	if code, out, _ := f.do(t, owner, http.MethodPost, "/connectors", body); code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, out)
	}
	code, out, ctx := f.do(t, member, http.MethodGet, "/connectors/tenant", "")
	if code != http.StatusOK {
		t.Fatalf("get: %d %v", code, out)
	}
	if raw := string(ctx.Response.Body()); strings.Contains(raw, "SECRET") {
		t.Errorf("the member sees the literal: %s", raw)
	}
	h := out["headers"].(map[string]any)["X-Key"]
	if h != "[redacted]{TENANT}" {
		t.Errorf("X-Key shown as %v", h)
	}
	if code, out, _ := f.do(t, admin, http.MethodPatch, "/connectors/tenant", `{"headers":{"X-Key":"[redacted]{TENANT}"},"description":"edited"}`); code != http.StatusOK {
		t.Fatalf("patch: %d %v", code, out)
	}
	stored, err := f.st.Connectors().Get(context.Background(), "tenant")
	if err != nil || stored.Headers["X-Key"] != "static-SECRET-{TENANT}" {
		t.Errorf("stored header %q (%v)", stored.Headers["X-Key"], err)
	}
}
