package admin

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
)

// Tests of defining and deleting custom roles; what roles inherit is
// tested in groups_test.go.

func TestCustomRoleEndpoints(t *testing.T) {
	f := newFixture(t)
	runSteps(t, f, []apiStep{
		{name: "an admin creates a role", who: admin, method: http.MethodPost, path: "/roles",
			body: `{"name":"deployer"}`, wantCode: 201, wantJSON: `{"role":"deployer","inherits":[]}`},
		{name: "it is listed", who: auditor, method: http.MethodGet, path: "/roles", wantCode: 200,
			wantJSON: `{"roles":["admin","auditor","deployer","member","owner"]}`},
		{name: "it reads back", who: auditor, method: http.MethodGet, path: "/roles/deployer", wantCode: 200,
			wantJSON: `{"role":"deployer","inherits":[]}`},
		{name: "a role is created with what it inherits, sorted", who: admin, method: http.MethodPost, path: "/roles",
			body: `{"name":"releaser","inherits":["deployer","auditor","deployer"]}`, wantCode: 201,
			wantJSON: `{"role":"releaser","inherits":["auditor","deployer"]}`},
		{name: "a member cannot create roles", who: member, method: http.MethodPost, path: "/roles",
			body: `{"name":"mine"}`, wantCode: 403, wantErr: "forbidden "},
		{name: "an auditor cannot create roles", who: auditor, method: http.MethodPost, path: "/roles",
			body: `{"name":"mine"}`, wantCode: 403, wantErr: "forbidden "},
		{name: "a member cannot delete roles", who: member, method: http.MethodDelete, path: "/roles/deployer",
			wantCode: 403, wantErr: "forbidden "},
		{name: "an auditor cannot delete roles", who: auditor, method: http.MethodDelete, path: "/roles/deployer",
			wantCode: 403, wantErr: "forbidden "},
		{name: "a bad name is named", who: admin, method: http.MethodPost, path: "/roles",
			body: `{"name":"-deployer"}`, wantCode: 422, wantErr: "invalid_field name"},
		{name: "a name a tool rule could not name is refused", who: admin, method: http.MethodPost, path: "/roles",
			body: `{"name":"role:deployer"}`, wantCode: 422, wantErr: "invalid_field name"},
		{name: "a missing name is named", who: admin, method: http.MethodPost, path: "/roles",
			body: `{"inherits":["member"]}`, wantCode: 422, wantErr: "invalid_field name"},
		{name: "an existing role conflicts", who: admin, method: http.MethodPost, path: "/roles",
			body: `{"name":"deployer"}`, wantCode: 409, wantErr: "conflict name"},
		{name: "a built-in role conflicts", who: admin, method: http.MethodPost, path: "/roles",
			body: `{"name":"admin"}`, wantCode: 409, wantErr: "conflict name"},
		{name: "an unknown parent is named", who: admin, method: http.MethodPost, path: "/roles",
			body: `{"name":"ops","inherits":["superuser"]}`, wantCode: 422, wantErr: "invalid_field inherits"},
		{name: "inheriting itself is refused", who: admin, method: http.MethodPost, path: "/roles",
			body: `{"name":"ops","inherits":["ops"]}`, wantCode: 422, wantErr: "invalid_field inherits"},
		{name: "an unknown field is refused", who: admin, method: http.MethodPost, path: "/roles",
			body: `{"name":"ops","parents":["member"]}`, wantCode: 400, wantErr: "invalid_json parents"},
		{name: "an admin cannot create a role inheriting owner", who: admin, method: http.MethodPost, path: "/roles",
			body: `{"name":"breakglass","inherits":["owner"]}`, wantCode: 403, wantErr: "forbidden inherits"},
		{name: "the refused creates made no role", who: auditor, method: http.MethodGet, path: "/roles", wantCode: 200,
			wantJSON: `{"roles":["admin","auditor","deployer","member","owner","releaser"]}`},
		{name: "an owner creates one", who: owner, method: http.MethodPost, path: "/roles",
			body: `{"name":"breakglass","inherits":["owner"]}`, wantCode: 201, wantJSON: `{"role":"breakglass","inherits":["owner"]}`},
		{name: "and one inheriting it", who: owner, method: http.MethodPost, path: "/roles",
			body: `{"name":"oncall","inherits":["breakglass"]}`, wantCode: 201, wantJSON: `{"role":"oncall","inherits":["breakglass"]}`},
		{name: "an admin cannot delete a role inheriting owner", who: admin, method: http.MethodDelete, path: "/roles/breakglass",
			wantCode: 403, wantErr: "forbidden "},
		{name: "nor one inheriting it through another", who: admin, method: http.MethodDelete, path: "/roles/oncall",
			wantCode: 403, wantErr: "forbidden "},
		{name: "an owner deletes them", who: owner, method: http.MethodDelete, path: "/roles/oncall", wantCode: 204},
		{name: "both", who: owner, method: http.MethodDelete, path: "/roles/breakglass", wantCode: 204},
		{name: "a built-in role cannot be deleted", who: admin, method: http.MethodDelete, path: "/roles/member",
			wantCode: 409, wantErr: "builtin "},
		{name: "not even by an owner", who: owner, method: http.MethodDelete, path: "/roles/owner",
			wantCode: 409, wantErr: "builtin "},
		{name: "owner is built-in for an admin too", who: admin, method: http.MethodDelete, path: "/roles/owner",
			wantCode: 409, wantErr: "builtin "},
		{name: "an unknown role is not found", who: admin, method: http.MethodDelete, path: "/roles/superuser",
			wantCode: 404, wantErr: "not_found "},
	})

	// A custom role held by mia directly and by max through a group, and
	// named by a tool rule.
	deployRule := `{"subject":"role:deployer","connector":"*","kind":"tool","name":"deploy","actions":["call"],"effect":"allow"}`
	dryRun := func(t *testing.T, user string) string {
		t.Helper()
		code, out, _ := f.do(t, auditor, http.MethodPost, "/policies/dry-run", `{"user":"`+user+`","connector":"ci","name":"deploy"}`)
		if code != 200 {
			t.Fatalf("dry-run: HTTP %d %v", code, out)
		}
		return out["effect"].(string)
	}
	runSteps(t, f, []apiStep{
		{name: "a tool rule names the role", who: admin, method: http.MethodPut, path: "/policies/rules/deployers",
			body: deployRule, wantCode: 200},
		{name: "a user is given the role", who: admin, method: http.MethodPatch, path: "/users/mia",
			body: `{"roles":["member","deployer"]}`, wantCode: 200},
		{name: "a group holds it", who: admin, method: http.MethodPut, path: "/groups/deployers",
			body: `{"members":["max"],"roles":["deployer"]}`, wantCode: 200,
			wantJSON: `{"name":"deployers","members":["max"],"roles":["deployer"]}`},
		{name: "a new user may be created holding it", who: admin, method: http.MethodPost, path: "/users",
			body: `{"id":"dee","roles":["deployer"]}`, wantCode: 201},
	})
	t.Run("its holders get what tool rules grant it", func(t *testing.T) {
		_, out, _ := f.do(t, auditor, http.MethodGet, "/users/mia", "")
		if got := out["roles"]; !slices.Contains(toAnySlice(got), any("deployer")) {
			t.Errorf("mia's roles %v", got)
		}
		for _, user := range []string{"mia", "max", "dee"} {
			if got := dryRun(t, user); got != "allow" {
				t.Errorf("%s may not deploy: %s", user, got)
			}
		}
		if got := dryRun(t, "aud"); got != "deny" {
			t.Errorf("aud, without the role, may deploy: %s", got)
		}
	})
	t.Run("and nothing in the admin API", func(t *testing.T) {
		dee := auth.Principal{User: "dee", Roles: []string{"deployer"}}
		for _, path := range []string{"/connectors", "/users", "/roles", "/audit", "/policies/rules", "/tokens?user=*"} {
			if code, _, _ := f.do(t, dee, http.MethodGet, path, ""); code != 403 {
				t.Errorf("GET %s as a deployer: HTTP %d, want 403", path, code)
			}
		}
		if code, _, _ := f.do(t, dee, http.MethodPost, "/roles", `{"name":"mine"}`); code != 403 {
			t.Errorf("a deployer creates roles: HTTP %d", code)
		}
	})
	runSteps(t, f, []apiStep{
		{name: "an admin deletes the role", who: admin, method: http.MethodDelete, path: "/roles/deployer", wantCode: 204},
		{name: "it is gone", who: auditor, method: http.MethodGet, path: "/roles/deployer", wantCode: 404, wantErr: "not_found "},
		{name: "deleting it again is not found", who: admin, method: http.MethodDelete, path: "/roles/deployer",
			wantCode: 404, wantErr: "not_found "},
		{name: "roles that inherited it no longer do", who: auditor, method: http.MethodGet, path: "/roles/releaser", wantCode: 200,
			wantJSON: `{"role":"releaser","inherits":["auditor"]}`},
		{name: "the group lost it", who: auditor, method: http.MethodGet, path: "/groups/deployers", wantCode: 200,
			wantJSON: `{"name":"deployers","members":["max"],"roles":[]}`},
		{name: "the list lost it", who: auditor, method: http.MethodGet, path: "/roles", wantCode: 200,
			wantJSON: `{"roles":["admin","auditor","member","owner","releaser"]}`},
		{name: "roles have no other methods", who: admin, method: http.MethodPost, path: "/roles/releaser", body: `{}`,
			wantCode: 405, wantErr: "method_not_allowed "},
	})
	t.Run("its holders lost it, and what tool rules granted it", func(t *testing.T) {
		for user, want := range map[string]string{"mia": "member", "max": "member", "dee": ""} {
			if got := strings.Join(f.authz.Roles(user), ","); got != want {
				t.Errorf("%s holds %q, want %q", user, got, want)
			}
			if got := dryRun(t, user); got != "deny" {
				t.Errorf("%s may still deploy: %s", user, got)
			}
		}
	})
	t.Run("every create and delete is audited", func(t *testing.T) {
		acts := f.auditActions(t)
		for _, want := range []string{"role.create deployer", "role.create releaser", "role.create breakglass",
			"role.delete oncall", "role.delete breakglass", "role.delete deployer"} {
			if !slices.Contains(acts, want) {
				t.Errorf("audit lacks %q: %v", want, acts)
			}
		}
		for _, refused := range []string{"role.create ops", "role.delete member", "role.create mine"} {
			if slices.Contains(acts, refused) {
				t.Errorf("a refused write was audited: %q", refused)
			}
		}
	})
}
