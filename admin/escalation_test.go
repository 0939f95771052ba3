package admin

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
)

// TestNoEscalation drives every admin endpoint that touches users, tokens,
// groups and roles with an admin actor and a target holding the owner
// role (directly, through a group, by inheritance): each is refused with
// 403 and changes nothing. The same calls by an owner succeed, so the
// refusals are about the actor, not the request.
func TestNoEscalation(t *testing.T) {
	type setup func(t *testing.T, f *fixture) // makes the target
	direct := func(t *testing.T, f *fixture) {}
	viaGroup := func(t *testing.T, f *fixture) {
		t.Helper()
		if err := f.authz.SetRoles("olga", nil); err != nil {
			t.Fatal(err)
		}
		if err := f.authz.SetGroup("root", []string{"olga"}, []string{auth.RoleOwner}); err != nil {
			t.Fatal(err)
		}
	}
	viaInheritance := func(t *testing.T, f *fixture) {
		t.Helper()
		if err := f.authz.DefineRole("superops"); err != nil {
			t.Fatal(err)
		}
		if err := f.authz.SetInherits("superops", []string{auth.RoleOwner}); err != nil {
			t.Fatal(err)
		}
		if err := f.authz.SetRoles("olga", []string{"superops"}); err != nil {
			t.Fatal(err)
		}
	}
	targets := []struct {
		name string
		make setup
	}{{"directly", direct}, {"through a group", viaGroup}, {"by inheritance", viaInheritance}}

	calls := []struct {
		name         string
		method, path string
		body         string
		// token: the call names the target's token (created by the owner
		// first); {tok} in the path is replaced by its id.
		token bool
	}{
		{name: "create a token for the owner", method: http.MethodPost, path: "/tokens", body: `{"name":"mine now","user":"olga"}`},
		{name: "revoke the owner's token", method: http.MethodDelete, path: "/tokens/{tok}", token: true},
		{name: "disable the owner", method: http.MethodPatch, path: "/users/olga", body: `{"disabled":true}`},
		{name: "rename the owner", method: http.MethodPatch, path: "/users/olga", body: `{"name":"Not Olga"}`},
		{name: "take the owner's roles away", method: http.MethodPatch, path: "/users/olga", body: `{"roles":["member"]}`},
		{name: "delete the owner", method: http.MethodDelete, path: "/users/olga"},
		{name: "put the owner in a group", method: http.MethodPut, path: "/groups/plain", body: `{"members":["olga"],"roles":["member"]}`},
	}
	for _, tg := range targets {
		for _, c := range calls {
			t.Run(c.name+", owner "+tg.name, func(t *testing.T) {
				for _, actor := range []auth.Principal{admin, owner} {
					f := newFixture(t)
					if code, out, _ := f.do(t, owner, http.MethodPost, "/users", `{"id":"olga","roles":["owner"]}`); code != http.StatusCreated {
						t.Fatalf("setup: %d %v", code, out)
					}
					tg.make(t, f)
					path := c.path
					if c.token {
						code, out, _ := f.do(t, owner, http.MethodPost, "/tokens", `{"name":"laptop","user":"olga"}`)
						if code != http.StatusCreated {
							t.Fatalf("setup token: %d %v", code, out)
						}
						path = strings.ReplaceAll(path, "{tok}", out["record"].(map[string]any)["id"].(string))
					}
					before := f.authz.Roles("olga")
					code, out, _ := f.do(t, actor, c.method, path, c.body)
					if actor.User == owner.User {
						if code >= 300 {
							t.Errorf("the owner was refused: %d %v", code, out)
						}
						continue
					}
					if code != http.StatusForbidden {
						t.Fatalf("the admin got %d %v, want 403", code, out)
					}
					if msg := errMessage(out); !strings.Contains(msg, "owner") {
						t.Errorf("the refusal %q does not name the owner role", msg)
					}
					if after := f.authz.Roles("olga"); strings.Join(after, ",") != strings.Join(before, ",") {
						t.Errorf("roles changed from %v to %v", before, after)
					}
					u, err := f.st.Users().Get(context.Background(), "olga")
					if err != nil || u.Disabled || u.Name != "" {
						t.Errorf("the owner was changed: %+v %v", u, err)
					}
					toks, _ := f.st.Tokens().List(context.Background(), "olga")
					for _, tk := range toks {
						if tk.RevokedAt != nil || tk.Name != "laptop" {
							t.Errorf("token %s changed or was created by the admin: %+v", tk.ID, tk)
						}
					}
				}
			})
		}
	}
}

// TestNoGrantBeyondOwnRoles: the grants an admin may not make, in every
// endpoint that binds roles.
func TestNoGrantBeyondOwnRoles(t *testing.T) {
	tests := []struct {
		name         string
		method, path string
		body         string
		wantField    string
	}{
		{"make an owner", http.MethodPost, "/users", `{"id":"olga","roles":["owner"]}`, "roles"},
		{"make herself an owner", http.MethodPatch, "/users/ada", `{"roles":["admin","owner"]}`, "roles"},
		{"give a group the owner role", http.MethodPut, "/groups/root", `{"members":["mia"],"roles":["owner"]}`, "roles"},
		{"make a new role inherit owner", http.MethodPost, "/roles", `{"name":"superops","inherits":["owner"]}`, "inherits"},
		{"make the member role inherit owner", http.MethodPut, "/roles/member", `{"inherits":["owner"]}`, "inherits"},
		{"change what the owner role inherits", http.MethodPut, "/roles/owner", `{"inherits":["auditor"]}`, "inherits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			before := f.authz.Roles("mia")
			code, out, _ := f.do(t, admin, tt.method, tt.path, tt.body)
			if code != http.StatusForbidden || errField(out) != tt.wantField {
				t.Fatalf("%d %v, want 403 on %s", code, out, tt.wantField)
			}
			if held := f.authz.Roles("ada"); strings.Contains(strings.Join(held, ","), "owner") {
				t.Errorf("the admin holds %v", held)
			}
			if after := f.authz.Roles("mia"); strings.Join(after, ",") != strings.Join(before, ",") {
				t.Errorf("mia's roles changed from %v to %v", before, after)
			}
		})
	}
	t.Run("an admin still manages members, auditors and custom roles", func(t *testing.T) {
		f := newFixture(t)
		for _, c := range []struct{ method, path, body string }{
			{http.MethodPost, "/users", `{"id":"newbie","roles":["member"]}`},
			{http.MethodPatch, "/users/aud", `{"disabled":true}`},
			{http.MethodPost, "/tokens", `{"name":"ci","user":"mia"}`},
			{http.MethodPost, "/roles", `{"name":"sre","inherits":["member"]}`},
			{http.MethodPut, "/groups/sre", `{"members":["mia","max"],"roles":["sre"]}`},
			{http.MethodDelete, "/users/max", ""},
		} {
			if code, out, _ := f.do(t, admin, c.method, c.path, c.body); code >= 300 {
				t.Errorf("%s %s: %d %v", c.method, c.path, code, out)
			}
		}
	})
	t.Run("a custom-role holder covers only what they hold", func(t *testing.T) {
		f := newFixture(t)
		// A deputy with no built-in role cannot grant admin, even where a
		// rule lets it write users.
		deputy := auth.Principal{User: "dep", Roles: []string{"deputy"}}
		if f.api.covers(deputy, auth.RoleAdmin) || f.api.covers(deputy, auth.RoleMember) {
			t.Error("a deputy covers roles it does not hold")
		}
		if !f.api.covers(deputy, "deputy") {
			t.Error("a deputy does not cover its own role")
		}
	})
}

func errMessage(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}
