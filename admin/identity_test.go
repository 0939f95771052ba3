package admin

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/auth/keys"
	"github.com/gatehouse-mcp/gatehouse/core/identity"
)

func TestIdentityKeyRotation(t *testing.T) {
	f := newFixture(t)
	if code, _, _ := f.do(t, owner, http.MethodPost, "/identity-forward/keys/rotate", ""); code != http.StatusNotFound {
		t.Fatalf("without a ring: %d, want 404", code)
	}
	ring, err := keys.Open(context.Background(), f.st.OAuth(), keys.Config{Purpose: identity.Purpose})
	if err != nil {
		t.Fatal(err)
	}
	f.api.IdentityKeys = ring
	first := ring.CurrentKeyID()

	for _, tt := range []struct {
		name         string
		who          auth.Principal
		method, path string
		want         int
	}{
		{"an admin may not rotate", admin, http.MethodPost, "/identity-forward/keys/rotate", http.StatusForbidden},
		{"an auditor may not rotate", auditor, http.MethodPost, "/identity-forward/keys/rotate", http.StatusForbidden},
		{"a member may not rotate", member, http.MethodPost, "/identity-forward/keys/rotate", http.StatusForbidden},
		{"GET is not a rotation", owner, http.MethodGet, "/identity-forward/keys/rotate", http.StatusMethodNotAllowed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if code, out, _ := f.do(t, tt.who, tt.method, tt.path, ""); code != tt.want {
				t.Fatalf("got %d %v, want %d", code, out, tt.want)
			}
		})
	}
	if ring.CurrentKeyID() != first {
		t.Fatal("a refused request rotated the key")
	}

	code, out, _ := f.do(t, owner, http.MethodPost, "/identity-forward/keys/rotate", "")
	if code != http.StatusOK || out["previous_kid"] != first || out["kid"] != ring.CurrentKeyID() || out["kid"] == first ||
		out["jwks_url"] != "https://gatehouse.example.com"+identity.JWKSPath {
		t.Fatalf("rotate: %d %v (first key %s)", code, out, first)
	}
	if !slices.Contains(f.auditActions(t), "identity.keys.rotate identity-forward") {
		t.Fatalf("audit %v: want identity.keys.rotate", f.auditActions(t))
	}
}
