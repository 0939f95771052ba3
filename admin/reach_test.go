package admin

import (
	"net/http"
	"strings"
	"testing"
)

// TestReachNotice: a connector URL the gateway would refuse to dial gets a
// notice naming the setting at create and change, not only an error at
// the first call.
func TestReachNotice(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{"a loopback IP", "http://127.0.0.1:9000/mcp", "GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS=true"},
		{"a name resolving to private space", "https://internal.example.com/mcp", "10.0.0.5, a private or reserved address"},
		{"a name that does not resolve", "https://nxdomain.example.com/mcp", "cannot resolve nxdomain.example.com"},
		{"a public host", "https://mcp.example.com/mcp", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			code, out, _ := f.do(t, admin, http.MethodPost, "/connectors", `{"name":"X","slug":"x","url":"`+tt.url+`","status":"active"}`)
			if code != http.StatusCreated {
				t.Fatalf("create: %d %v", code, out)
			}
			notices, _ := out["notices"].([]any)
			joined := ""
			for _, n := range notices {
				joined += n.(string) + "\n"
			}
			if tt.want == "" && joined != "" || tt.want != "" && !strings.Contains(joined, tt.want) {
				t.Errorf("notices %q, want %q", joined, tt.want)
			}
		})
	}
	t.Run("a change to a private URL is noticed too", func(t *testing.T) {
		f := newFixture(t)
		f.do(t, admin, http.MethodPost, "/connectors", `{"name":"X","slug":"x","url":"https://mcp.example.com/mcp","status":"active"}`)
		_, out, _ := f.do(t, admin, http.MethodPatch, "/connectors/x", `{"url":"https://db.internal.example.com/mcp"}`)
		if n, _ := out["notices"].([]any); len(n) == 0 {
			t.Errorf("no notice: %v", out)
		}
	})
	t.Run("allowed private upstreams get no notice", func(t *testing.T) {
		f := newFixture(t)
		f.api.AllowPrivateUpstreams = true
		_, out, _ := f.do(t, admin, http.MethodPost, "/connectors", `{"name":"X","slug":"x","url":"http://127.0.0.1:9000/mcp","status":"active"}`)
		if n, _ := out["notices"].([]any); len(n) != 0 {
			t.Errorf("notices %v", n)
		}
	})
}
