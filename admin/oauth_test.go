package admin

import (
	"context"
	"slices"
	"testing"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/auth/keys"
	"github.com/gatehouse-mcp/gatehouse/core/auth/oauth"
	"github.com/gatehouse-mcp/gatehouse/core/store"
)

func withOAuth(t *testing.T, f *fixture) *oauth.Server {
	t.Helper()
	ring, err := keys.Open(context.Background(), f.st.OAuth(), keys.Config{Purpose: "oauth-access"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := oauth.New(context.Background(), oauth.Config{Issuer: "https://gatehouse.example.com", PasswordCost: bcrypt.MinCost},
		oauth.Deps{Store: f.st.OAuth(), Keys: ring, Users: store.Directory{Store: f.st, RolesOf: f.authz.Roles}, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	f.api.OAuth = srv
	return srv
}

func TestPasswords(t *testing.T) {
	f := newFixture(t)
	srv := withOAuth(t, f)
	const pw = `{"password":"a long enough password"}`
	for _, tc := range []struct {
		name   string
		actor  string
		method string
		path   string
		body   string
		want   int
	}{
		{"an owner sets a member's password", "owner", "PUT", "/users/mia/password", pw, 204},
		{"a member sets their own password", "max", "PUT", "/users/max/password", pw, 204},
		{"a member may not set another's password", "max", "PUT", "/users/mia/password", pw, 403},
		{"an admin may not set an owner's password (escalation)", "ada", "PUT", "/users/owner/password", pw, 403},
		{"an auditor may not set a member's password", "aud", "PUT", "/users/mia/password", pw, 403},
		{"a short password is refused", "owner", "PUT", "/users/mia/password", `{"password":"short"}`, 422},
		{"an unknown field is refused", "owner", "PUT", "/users/mia/password", `{"pass":"a long enough password"}`, 400},
		{"an unknown user is not found", "owner", "PUT", "/users/nobody/password", pw, 404},
		{"GET is not a method here", "owner", "GET", "/users/mia/password", "", 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := map[string]auth.Principal{"owner": owner, "max": member2, "ada": admin, "aud": auditor}[tc.actor]
			status, body, _ := f.do(t, p, tc.method, tc.path, tc.body)
			if status != tc.want {
				t.Fatalf("status %d, want %d: %v", status, tc.want, body)
			}
		})
	}
	t.Run("the password set signs in; the refused ones changed nothing", func(t *testing.T) {
		if err := srv.CheckPassword(context.Background(), "mia", "a long enough password"); err != nil {
			t.Fatal(err)
		}
		if err := srv.CheckPassword(context.Background(), "owner", "a long enough password"); err == nil {
			t.Fatal("the admin's refused change took effect")
		}
	})
	t.Run("removing it stops sign-in, and both are audited", func(t *testing.T) {
		if status, body, _ := f.do(t, owner, "DELETE", "/users/mia/password", ""); status != 204 {
			t.Fatalf("%d %v", status, body)
		}
		if err := srv.CheckPassword(context.Background(), "mia", "a long enough password"); err == nil {
			t.Fatal("still signs in")
		}
		acts := f.auditActions(t)
		if !slices.Contains(acts, "user.password.set mia") || !slices.Contains(acts, "user.password.delete mia") {
			t.Fatalf("audit: %v", acts)
		}
	})
}

func TestOAuthClients(t *testing.T) {
	f := newFixture(t)
	withOAuth(t, f)
	var confidential string
	t.Run("a confidential client gets its secret once", func(t *testing.T) {
		status, body, _ := f.do(t, owner, "POST", "/oauth/clients",
			`{"client_name":"Internal app","redirect_uris":["https://app.example.com/cb"],"confidential":true}`)
		if status != 201 || body["client_secret"] == nil || body["token_endpoint_auth_method"] != "client_secret_basic" {
			t.Fatalf("%d %v", status, body)
		}
		confidential = body["client_id"].(string)
	})
	t.Run("a public client has no secret", func(t *testing.T) {
		status, body, _ := f.do(t, owner, "POST", "/oauth/clients", `{"redirect_uris":["http://127.0.0.1:3000/cb"],"application_type":"native"}`)
		if status != 201 || body["client_secret"] != nil || body["token_endpoint_auth_method"] != "none" {
			t.Fatalf("%d %v", status, body)
		}
	})
	for _, tc := range []struct{ name, body string }{
		{"no redirect URIs", `{"client_name":"x"}`},
		{"an http redirect off loopback", `{"redirect_uris":["http://app.example.com/cb"]}`},
		{"an unknown application type", `{"redirect_uris":["https://app.example.com/cb"],"application_type":"tv"}`},
	} {
		t.Run("a client with "+tc.name+" is refused", func(t *testing.T) {
			if status, body, _ := f.do(t, owner, "POST", "/oauth/clients", tc.body); status != 422 {
				t.Fatalf("%d %v", status, body)
			}
		})
	}
	t.Run("the list shows both without secrets", func(t *testing.T) {
		status, body, _ := f.do(t, auditor, "GET", "/oauth/clients", "")
		items, _ := body["items"].([]any)
		if status != 200 || len(items) != 2 {
			t.Fatalf("%d %v", status, body)
		}
		for _, it := range items {
			if it.(map[string]any)["client_secret"] != nil || it.(map[string]any)["secret_digest"] != nil {
				t.Fatalf("secret in the list: %v", it)
			}
		}
	})
	t.Run("a member may not register clients", func(t *testing.T) {
		if status, _, _ := f.do(t, member, "POST", "/oauth/clients", `{"redirect_uris":["https://a.example.com/cb"]}`); status != 403 {
			t.Fatalf("status %d", status)
		}
	})
	t.Run("delete removes a client; an unknown one is not found", func(t *testing.T) {
		if status, body, _ := f.do(t, owner, "DELETE", "/oauth/clients/"+confidential, ""); status != 204 {
			t.Fatalf("%d %v", status, body)
		}
		if status, _, _ := f.do(t, owner, "DELETE", "/oauth/clients/"+confidential, ""); status != 404 {
			t.Fatalf("second delete: %d", status)
		}
		if !slices.Contains(f.auditActions(t), "oauth.client.delete "+confidential) {
			t.Fatal("not audited")
		}
	})
}

func TestOAuthEndpointsWhenDisabled(t *testing.T) {
	f := newFixture(t)
	if status, _, _ := f.do(t, owner, "GET", "/oauth/clients", ""); status != 404 {
		t.Fatalf("status %d", status)
	}
}
