package admin

import (
	"context"
	"net/http"
	"testing"
)

// TestHostChangeNeedsSecretsAgain: moving a connector's URL to another
// host would send its stored token, literal header values and users'
// placeholder values there. The patch must bring new secrets or say
// keep_secrets; users' values are cleared unless kept.
func TestHostChangeNeedsSecretsAgain(t *testing.T) {
	const body = `{"name":"CRM","slug":"crm","url":"https://crm.example.com/mcp","auth":{"kind":"bearer","token":"crm-token"},"headers":{"X-Api-Key":"literal-key","X-Tenant":"{TENANT}"},"status":"active"}`
	tests := []struct {
		name        string
		patch       string
		wantCode    int
		wantToken   string
		wantCreds   bool // mia's placeholder values survive
		wantInField string
	}{
		{"same host, other path: nothing to re-enter", `{"url":"https://crm.example.com/v2/mcp"}`, 200, "crm-token", true, ""},
		{"another host with the old secrets is refused", `{"url":"https://evil.example.net/mcp"}`, 409, "crm-token", true, "auth.token"},
		{"another port is another host", `{"url":"https://crm.example.com:8443/mcp"}`, 409, "crm-token", true, "auth.token"},
		{"the token re-entered but not the header is refused", `{"url":"https://crm2.example.com/mcp","auth":{"token":"new-token"}}`, 409, "crm-token", true, "headers.X-Api-Key"},
		{"both re-entered: moved, users' values cleared", `{"url":"https://crm2.example.com/mcp","auth":{"token":"new-token"},"headers":{"X-Api-Key":"new-key"}}`, 200, "new-token", false, ""},
		{"explicitly kept: moved with everything", `{"url":"https://crm2.example.com/mcp","keep_secrets":true}`, 200, "crm-token", true, ""},
		{"a redacted token sent back is the old one", `{"url":"https://crm2.example.com/mcp","auth":{"token":"[redacted]"},"headers":{"X-Api-Key":"new-key"}}`, 409, "crm-token", true, "auth.token"},
		{"keep_secrets must be a boolean", `{"url":"https://crm2.example.com/mcp","keep_secrets":"yes"}`, 400, "crm-token", true, "keep_secrets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if code, out, _ := f.do(t, owner, http.MethodPost, "/connectors", body); code != http.StatusCreated {
				t.Fatalf("create: %d %v", code, out)
			}
			if err := f.st.Credentials().Set(context.Background(), "mia", "crm", map[string]string{"TENANT": "mia-tenant"}); err != nil {
				t.Fatal(err)
			}
			code, out, _ := f.do(t, admin, http.MethodPatch, "/connectors/crm", tt.patch)
			if code != tt.wantCode || tt.wantInField != "" && errField(out) != tt.wantInField {
				t.Fatalf("HTTP %d %v, want %d on %q", code, out, tt.wantCode, tt.wantInField)
			}
			stored, err := f.st.Connectors().Get(context.Background(), "crm")
			if err != nil || stored.Auth.Token != tt.wantToken {
				t.Errorf("stored token %q (%v), want %q", stored.Auth.Token, err, tt.wantToken)
			}
			creds, _ := f.st.Credentials().Get(context.Background(), "mia", "crm")
			if got := creds["TENANT"] == "mia-tenant"; got != tt.wantCreds {
				t.Errorf("mia's values kept: %v, want %v", got, tt.wantCreds)
			}
		})
	}
}
