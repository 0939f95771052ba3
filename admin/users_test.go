package admin

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
)

func TestAuthorizationMatrix(t *testing.T) {
	f := newFixture(t)
	if code, out, _ := f.do(t, owner, http.MethodPost, "/connectors", `{"name":"Docs","url":"https://docs.example.com/mcp","status":"active"}`); code != http.StatusCreated {
		t.Fatalf("seed connector: %d %v", code, out)
	}
	type req struct{ method, path, body string }
	var (
		listConnectors = req{http.MethodGet, "/connectors", ""}
		createConn     = req{http.MethodPost, "/connectors", `{"name":"New one","url":"https://new.example.com/mcp"}`}
		patchConn      = req{http.MethodPatch, "/connectors/docs", `{"description":"d"}`}
		listUsers      = req{http.MethodGet, "/users", ""}
		createUser     = req{http.MethodPost, "/users", `{"id":"zed","roles":["member"]}`}
		readAudit      = req{http.MethodGet, "/audit", ""}
		ownTokens      = req{http.MethodGet, "/tokens", ""}
		allTokens      = req{http.MethodGet, "/tokens?user=*", ""}
		createOwnToken = req{http.MethodPost, "/tokens", `{"name":"laptop"}`}
		tokenForOther  = req{http.MethodPost, "/tokens", `{"name":"x","user":"mia"}`}
	)
	tests := []struct {
		name string
		who  auth.Principal
		r    req
		want int
	}{
		{"a member lists connectors", member, listConnectors, 200},
		{"a member cannot create a connector", member, createConn, 403},
		{"a member cannot patch a connector", member, patchConn, 403},
		{"a member cannot list users", member, listUsers, 403},
		{"a member cannot read the audit log", member, readAudit, 403},
		{"a member lists their own tokens", member, ownTokens, 200},
		{"a member cannot list everyone's tokens", member, allTokens, 403},
		{"a member creates their own token", member, createOwnToken, 201},
		{"a member cannot create a token for someone else", member2, tokenForOther, 403},
		{"an auditor lists connectors", auditor, listConnectors, 200},
		{"an auditor cannot create a connector", auditor, createConn, 403},
		{"an auditor cannot patch a connector", auditor, patchConn, 403},
		{"an auditor lists users", auditor, listUsers, 200},
		{"an auditor cannot create users", auditor, createUser, 403},
		{"an auditor reads the audit log", auditor, readAudit, 200},
		{"an auditor lists everyone's tokens", auditor, allTokens, 200},
		{"an auditor cannot create a token for someone else", auditor, tokenForOther, 403},
		{"an admin creates a connector", admin, createConn, 201},
		{"an admin creates users", admin, createUser, 201},
		{"an admin creates a token for someone else", admin, tokenForOther, 201},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, _ := f.do(t, tc.who, tc.r.method, tc.r.path, tc.r.body)
			if code != tc.want {
				t.Fatalf("%s %s as %s: HTTP %d %v, want %d", tc.r.method, tc.r.path, tc.who.User, code, out, tc.want)
			}
			if code == http.StatusForbidden {
				e, _ := out["error"].(map[string]any)
				if e["code"] != "forbidden" || !strings.Contains(e["message"].(string), "do not allow") {
					t.Errorf("403 body %v", out)
				}
			}
		})
	}
}

func TestUsers(t *testing.T) {
	f := newFixture(t)
	t.Run("create binds roles and is audited", func(t *testing.T) {
		code, out, ctx := f.do(t, admin, http.MethodPost, "/users", `{"id":"nora","name":"Nora","roles":["member","auditor"]}`)
		if code != http.StatusCreated || string(ctx.Response.Header.Peek("Location")) != "/admin/v1/users/nora" {
			t.Fatalf("HTTP %d %v", code, out)
		}
		if roles := f.authz.DirectRoles("nora"); !slices.Equal(roles, []string{"auditor", "member"}) {
			t.Errorf("roles %v", roles)
		}
		if acts := f.auditActions(t); !slices.Contains(acts, "user.create nora") {
			t.Errorf("audit %v", acts)
		}
	})
	badInput := []struct {
		name, body string
		who        auth.Principal
		want       int
		field      string
	}{
		{"a bad id is named", `{"id":"Nora Smith"}`, admin, 422, "id"},
		{"an unknown role is named", `{"id":"olga","roles":["superuser"]}`, admin, 422, "roles"},
		{"an unknown field is named", `{"id":"olga","colour":"red"}`, admin, 400, "colour"},
		{"a duplicate id conflicts", `{"id":"mia"}`, admin, 409, "id"},
		{"an admin cannot make an owner", `{"id":"olga","roles":["owner"]}`, admin, 403, "roles"},
	}
	for _, tc := range badInput {
		t.Run(tc.name, func(t *testing.T) {
			code, out, _ := f.do(t, tc.who, http.MethodPost, "/users", tc.body)
			if code != tc.want || errField(out) != tc.field {
				t.Errorf("HTTP %d %v, want %d naming %q", code, out, tc.want, tc.field)
			}
		})
	}
	t.Run("nothing half-written by refused creates", func(t *testing.T) {
		if _, err := f.st.Users().Get(context.Background(), "olga"); err == nil {
			t.Error("olga exists")
		}
		if roles := f.authz.DirectRoles("olga"); len(roles) != 0 {
			t.Errorf("olga has roles %v", roles)
		}
	})
	t.Run("an owner makes an owner", func(t *testing.T) {
		if code, out, _ := f.do(t, owner, http.MethodPost, "/users", `{"id":"olga","roles":["owner"]}`); code != 201 {
			t.Errorf("HTTP %d %v", code, out)
		}
	})
	t.Run("patch changes roles with If-Match", func(t *testing.T) {
		code, out, _ := f.do(t, admin, http.MethodPatch, "/users/nora", `{"roles":["admin"]}`, "If-Match", `"1"`)
		if code != 200 || !slices.Equal(f.authz.DirectRoles("nora"), []string{"admin"}) {
			t.Fatalf("HTTP %d %v", code, out)
		}
		if code, _, _ := f.do(t, admin, http.MethodPatch, "/users/nora", `{"name":"x"}`, "If-Match", `"1"`); code != http.StatusPreconditionFailed {
			t.Errorf("stale If-Match: HTTP %d", code)
		}
	})
	t.Run("a member reads themselves but not others", func(t *testing.T) {
		if code, _, _ := f.do(t, member, http.MethodGet, "/users/mia", ""); code != 200 {
			t.Errorf("self: HTTP %d", code)
		}
		if code, _, _ := f.do(t, member, http.MethodGet, "/users/max", ""); code != 403 {
			t.Errorf("other: HTTP %d", code)
		}
	})
	t.Run("you cannot delete or disable yourself", func(t *testing.T) {
		if code, _, _ := f.do(t, admin, http.MethodDelete, "/users/ada", ""); code != 422 {
			t.Errorf("delete self: HTTP %d", code)
		}
		if code, _, _ := f.do(t, admin, http.MethodPatch, "/users/ada", `{"disabled":true}`); code != 422 {
			t.Errorf("disable self: HTTP %d", code)
		}
	})
	t.Run("an admin cannot delete an owner", func(t *testing.T) {
		if code, _, _ := f.do(t, admin, http.MethodDelete, "/users/olga", ""); code != 403 {
			t.Errorf("HTTP %d", code)
		}
	})
	t.Run("list pages by id", func(t *testing.T) {
		code, out, _ := f.do(t, auditor, http.MethodGet, "/users?limit=2", "")
		users, _ := out["users"].([]any)
		if code != 200 || len(users) != 2 || out["next_cursor"] == "" {
			t.Fatalf("HTTP %d %v", code, out)
		}
		code, out2, _ := f.do(t, auditor, http.MethodGet, "/users?limit=2&cursor="+out["next_cursor"].(string), "")
		users2, _ := out2["users"].([]any)
		if code != 200 || len(users2) != 2 || users2[0].(map[string]any)["id"] == users[1].(map[string]any)["id"] {
			t.Errorf("page 2: HTTP %d %v", code, out2)
		}
		if code, out, _ := f.do(t, auditor, http.MethodGet, "/users?limit=0", ""); code != 400 || errField(out) != "limit" {
			t.Errorf("limit=0: HTTP %d %v", code, out)
		}
	})
}

func TestTokens(t *testing.T) {
	f := newFixture(t)
	authenticate := func(token string) (auth.Principal, error) {
		return f.authn.Authenticate(context.Background(), []byte("Bearer "+token), false)
	}
	code, out, _ := f.do(t, member, http.MethodPost, "/tokens", `{"name":"laptop","expires":"30d"}`)
	if code != http.StatusCreated {
		t.Fatalf("create: HTTP %d %v", code, out)
	}
	token, _ := out["token"].(string)
	rec, _ := out["record"].(map[string]any)
	id, _ := rec["id"].(string)
	if !strings.HasPrefix(token, auth.TokenPrefix) || id == "" || rec["digest"] != nil || rec["expires_at"] == nil {
		t.Fatalf("create answer %v", out)
	}
	t.Run("the token authenticates its user with their roles", func(t *testing.T) {
		p, err := authenticate(token)
		if err != nil || p.User != "mia" || !slices.Equal(p.Roles, []string{"member"}) || p.TokenID != id {
			t.Fatalf("principal %+v, err %v", p, err)
		}
	})
	t.Run("the token is stored only as a digest", func(t *testing.T) {
		stored, err := f.st.Tokens().Get(context.Background(), id)
		if err != nil || stored.Digest == "" || strings.Contains(stored.Digest, token) || stored.Digest == token {
			t.Errorf("stored %+v %v", stored, err)
		}
	})
	t.Run("listing never shows the token or its digest", func(t *testing.T) {
		_, _, ctx := f.do(t, member, http.MethodGet, "/tokens", "")
		body := string(ctx.Response.Body())
		stored, _ := f.st.Tokens().Get(context.Background(), id)
		if strings.Contains(body, token) || strings.Contains(body, stored.Digest) || !strings.Contains(body, id) {
			t.Errorf("list body %s", body)
		}
	})
	t.Run("another member cannot revoke it", func(t *testing.T) {
		if code, _, _ := f.do(t, member2, http.MethodDelete, "/tokens/"+id, ""); code != 403 {
			t.Errorf("HTTP %d", code)
		}
	})
	t.Run("a revoked token no longer authenticates", func(t *testing.T) {
		code, out, _ := f.do(t, member, http.MethodDelete, "/tokens/"+id, "")
		if code != 200 || out["active"] != false || out["revoked_at"] == nil {
			t.Fatalf("revoke: HTTP %d %v", code, out)
		}
		if _, err := authenticate(token); !errors.Is(err, auth.ErrTokenRevoked) {
			t.Errorf("err %v, want revoked", err)
		}
		if acts := f.auditActions(t); !slices.Contains(acts, "token.revoke "+id) || !slices.Contains(acts, "token.create "+id) {
			t.Errorf("audit %v", acts)
		}
	})
	t.Run("a disabled user's tokens stop working", func(t *testing.T) {
		_, out, _ := f.do(t, member2, http.MethodPost, "/tokens", `{"name":"ci"}`)
		tok := out["token"].(string)
		if _, err := authenticate(tok); err != nil {
			t.Fatalf("before: %v", err)
		}
		if code, _, _ := f.do(t, admin, http.MethodPatch, "/users/max", `{"disabled":true}`); code != 200 {
			t.Fatalf("disable: HTTP %d", code)
		}
		if _, err := authenticate(tok); !errors.Is(err, auth.ErrUserDisabled) {
			t.Errorf("err %v, want disabled", err)
		}
	})
	t.Run("a deleted user's tokens are revoked", func(t *testing.T) {
		f.do(t, admin, http.MethodPost, "/users", `{"id":"temp"}`)
		_, out, _ := f.do(t, admin, http.MethodPost, "/tokens", `{"name":"t","user":"temp","expires":"never"}`)
		tok := out["token"].(string)
		if rec := out["record"].(map[string]any); rec["expires_at"] != nil {
			t.Errorf("never-expiring token has expiry %v", rec["expires_at"])
		}
		if code, _, _ := f.do(t, admin, http.MethodDelete, "/users/temp", ""); code != 204 {
			t.Fatalf("delete: HTTP %d", code)
		}
		if _, err := authenticate(tok); err == nil {
			t.Error("a deleted user's token still authenticates")
		}
	})
	badInput := []struct{ name, body, field string }{
		{"a missing name", `{}`, "name"},
		{"a past expiry", `{"name":"x","expires":"2001-01-01T00:00:00Z"}`, "expires"},
		{"a nonsense expiry", `{"name":"x","expires":"soon"}`, "expires"},
	}
	for _, tc := range badInput {
		t.Run(tc.name+" is refused by name", func(t *testing.T) {
			if code, out, _ := f.do(t, member, http.MethodPost, "/tokens", tc.body); code != 422 || errField(out) != tc.field {
				t.Errorf("HTTP %d %v", code, out)
			}
		})
	}
	t.Run("an expired token is refused as expired", func(t *testing.T) {
		tok, digest := auth.NewToken()
		past := time.Now().Add(-time.Minute)
		if err := f.st.Tokens().Create(context.Background(), &auth.Token{User: "mia", Name: "old", Digest: auth.DigestHex(digest), ExpiresAt: &past}); err != nil {
			t.Fatal(err)
		}
		if _, err := authenticate(tok); !errors.Is(err, auth.ErrTokenExpired) {
			t.Errorf("err %v, want expired", err)
		}
		_, out, _ := f.do(t, member, http.MethodGet, "/tokens", "")
		for _, v := range out["tokens"].([]any) {
			if r := v.(map[string]any); r["name"] == "old" && r["active"] != false {
				t.Errorf("expired token listed as active: %v", r)
			}
		}
	})
}
