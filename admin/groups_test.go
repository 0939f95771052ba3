package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
)

// apiStep is one request of a test whose steps share a fixture and run in
// order, and what it must answer.
type apiStep struct {
	name               string
	who                auth.Principal
	method, path, body string
	wantCode           int
	// wantJSON, when set, is the whole answer; wantErr the error's code
	// and field ("code field").
	wantJSON, wantErr string
}

func runSteps(t *testing.T, f *fixture, steps []apiStep) {
	t.Helper()
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			code, out, ctx := f.do(t, s.who, s.method, s.path, s.body)
			if code != s.wantCode {
				t.Fatalf("%s %s as %s: HTTP %d %s, want %d", s.method, s.path, s.who.User, code, ctx.Response.Body(), s.wantCode)
			}
			if s.wantJSON != "" && !sameJSON(ctx.Response.Body(), s.wantJSON) {
				t.Errorf("answer %s, want %s", ctx.Response.Body(), s.wantJSON)
			}
			if s.wantErr != "" {
				if got := errCode(out) + " " + errField(out); got != s.wantErr {
					t.Errorf("error %q (%v), want %q", got, out, s.wantErr)
				}
			}
		})
	}
}

func sameJSON(a []byte, b string) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return false
	}
	x, _ := json.Marshal(va)
	y, _ := json.Marshal(vb)
	return string(x) == string(y)
}

func TestGroupEndpoints(t *testing.T) {
	f := newFixture(t)
	runSteps(t, f, []apiStep{
		{name: "an admin makes a group", who: admin, method: http.MethodPut, path: "/groups/eng",
			body: `{"members":["max","aud","max"],"roles":["auditor"]}`, wantCode: 200,
			wantJSON: `{"name":"eng","members":["aud","max"],"roles":["auditor"]}`},
		{name: "an auditor lists the groups", who: auditor, method: http.MethodGet, path: "/groups", wantCode: 200,
			wantJSON: `{"groups":[{"name":"eng","members":["aud","max"],"roles":["auditor"]}]}`},
		{name: "an auditor reads a group", who: auditor, method: http.MethodGet, path: "/groups/eng", wantCode: 200,
			wantJSON: `{"name":"eng","members":["aud","max"],"roles":["auditor"]}`},
		{name: "a member cannot read groups", who: member, method: http.MethodGet, path: "/groups", wantCode: 403, wantErr: "forbidden "},
		{name: "a member cannot write groups", who: member, method: http.MethodPut, path: "/groups/eng",
			body: `{"members":["mia"],"roles":["admin"]}`, wantCode: 403, wantErr: "forbidden "},
		{name: "an auditor cannot write groups", who: auditor, method: http.MethodDelete, path: "/groups/eng", wantCode: 403, wantErr: "forbidden "},
		{name: "an unknown group is not found", who: admin, method: http.MethodGet, path: "/groups/nope", wantCode: 404, wantErr: "not_found "},
		{name: "a bad group name is named", who: admin, method: http.MethodPut, path: "/groups/-eng",
			body: `{"members":["mia"]}`, wantCode: 422, wantErr: "invalid_field name"},
		{name: "a member who is not a user is refused", who: admin, method: http.MethodPut, path: "/groups/eng",
			body: `{"members":["mia","ghost"],"roles":["auditor"]}`, wantCode: 422, wantErr: "invalid_field members"},
		{name: "an unknown role is refused", who: admin, method: http.MethodPut, path: "/groups/eng",
			body: `{"members":["mia"],"roles":["superuser"]}`, wantCode: 422, wantErr: "invalid_field roles"},
		{name: "an unknown field is refused", who: admin, method: http.MethodPut, path: "/groups/eng",
			body: `{"members":["mia"],"colour":"red"}`, wantCode: 400, wantErr: "invalid_json colour"},
		{name: "an empty group is refused", who: admin, method: http.MethodPut, path: "/groups/eng",
			body: `{"members":[],"roles":[]}`, wantCode: 422, wantErr: "invalid_field members"},
		{name: "the refused writes changed nothing", who: auditor, method: http.MethodGet, path: "/groups/eng", wantCode: 200,
			wantJSON: `{"name":"eng","members":["aud","max"],"roles":["auditor"]}`},
		{name: "a put replaces members and roles", who: admin, method: http.MethodPut, path: "/groups/eng",
			body: `{"members":["max"],"roles":["member"]}`, wantCode: 200,
			wantJSON: `{"name":"eng","members":["max"],"roles":["member"]}`},
		{name: "an admin cannot make a group of owners", who: admin, method: http.MethodPut, path: "/groups/root",
			body: `{"members":["ada"],"roles":["owner"]}`, wantCode: 403, wantErr: "forbidden roles"},
		{name: "an owner can", who: owner, method: http.MethodPut, path: "/groups/root",
			body: `{"members":["mia"],"roles":["owner"]}`, wantCode: 200,
			wantJSON: `{"name":"root","members":["mia"],"roles":["owner"]}`},
		{name: "an admin cannot join a group of owners", who: admin, method: http.MethodPut, path: "/groups/root",
			body: `{"members":["mia","ada"],"roles":["owner"]}`, wantCode: 403, wantErr: "forbidden members"},
		{name: "an admin cannot delete a group of owners", who: admin, method: http.MethodDelete, path: "/groups/root",
			wantCode: 403, wantErr: "forbidden roles"},
		{name: "an owner deletes it", who: owner, method: http.MethodDelete, path: "/groups/root", wantCode: 204},
		{name: "an admin deletes a group", who: admin, method: http.MethodDelete, path: "/groups/eng", wantCode: 204},
		{name: "a deleted group is gone", who: admin, method: http.MethodGet, path: "/groups/eng", wantCode: 404, wantErr: "not_found "},
		{name: "deleting it again is not found", who: admin, method: http.MethodDelete, path: "/groups/eng", wantCode: 404, wantErr: "not_found "},
		{name: "no groups are left", who: auditor, method: http.MethodGet, path: "/groups", wantCode: 200, wantJSON: `{"groups":[]}`},
		{name: "groups have no other methods", who: admin, method: http.MethodPost, path: "/groups", body: `{}`,
			wantCode: 405, wantErr: "method_not_allowed "},
	})
	t.Run("every write is audited", func(t *testing.T) {
		acts := f.auditActions(t)
		for _, want := range []string{"group.put eng", "group.put root", "group.delete root", "group.delete eng"} {
			if !slices.Contains(acts, want) {
				t.Errorf("audit lacks %q: %v", want, acts)
			}
		}
	})
}

func TestGroupRolesApply(t *testing.T) {
	f := newFixture(t)
	if code, out, _ := f.do(t, admin, http.MethodPut, "/groups/ops", `{"members":["mia"],"roles":["admin"]}`); code != 200 {
		t.Fatalf("put: HTTP %d %v", code, out)
	}
	_, out, _ := f.do(t, member, http.MethodPost, "/tokens", `{"name":"laptop"}`)
	p, err := f.authn.Authenticate(context.Background(), []byte("Bearer "+out["token"].(string)), false)
	if err != nil || !p.HasRole(auth.RoleAdmin) {
		t.Fatalf("mia in ops: principal %+v, err %v", p, err)
	}
	if code, _, _ := f.do(t, p, http.MethodGet, "/users", ""); code != 200 {
		t.Errorf("mia, an admin through ops, lists users: HTTP %d", code)
	}
	t.Run("deleting a user takes them out of their groups", func(t *testing.T) {
		if code, _, _ := f.do(t, admin, http.MethodDelete, "/users/mia", ""); code != 204 {
			t.Fatalf("delete: HTTP %d", code)
		}
		if code, out, _ := f.do(t, admin, http.MethodGet, "/groups/ops", ""); code != 200 || len(out["members"].([]any)) != 0 {
			t.Errorf("HTTP %d %v", code, out)
		}
	})
}

func TestRoleInheritanceEndpoints(t *testing.T) {
	f := newFixture(t)
	runSteps(t, f, []apiStep{
		{name: "an auditor reads what a role inherits", who: auditor, method: http.MethodGet, path: "/roles/member", wantCode: 200,
			wantJSON: `{"role":"member","inherits":[]}`},
		{name: "an unknown role is not found", who: auditor, method: http.MethodGet, path: "/roles/superuser", wantCode: 404, wantErr: "not_found "},
		{name: "an admin makes members inherit auditor", who: admin, method: http.MethodPut, path: "/roles/member",
			body: `{"inherits":["auditor"]}`, wantCode: 200, wantJSON: `{"role":"member","inherits":["auditor"]}`},
		{name: "it reads back", who: auditor, method: http.MethodGet, path: "/roles/member", wantCode: 200,
			wantJSON: `{"role":"member","inherits":["auditor"]}`},
		{name: "a member cannot write", who: member, method: http.MethodPut, path: "/roles/member",
			body: `{"inherits":[]}`, wantCode: 403, wantErr: "forbidden "},
		{name: "an auditor cannot write", who: auditor, method: http.MethodPut, path: "/roles/member",
			body: `{"inherits":[]}`, wantCode: 403, wantErr: "forbidden "},
		{name: "an unknown parent is named", who: admin, method: http.MethodPut, path: "/roles/member",
			body: `{"inherits":["superuser"]}`, wantCode: 422, wantErr: "invalid_field inherits"},
		{name: "a cycle is refused", who: admin, method: http.MethodPut, path: "/roles/auditor",
			body: `{"inherits":["member"]}`, wantCode: 422, wantErr: "invalid_field inherits"},
		{name: "inheriting yourself is a cycle", who: admin, method: http.MethodPut, path: "/roles/admin",
			body: `{"inherits":["admin"]}`, wantCode: 422, wantErr: "invalid_field inherits"},
		{name: "setting an unknown role's parents is not found", who: admin, method: http.MethodPut, path: "/roles/superuser",
			body: `{"inherits":["member"]}`, wantCode: 404, wantErr: "not_found "},
		{name: "an unknown field is refused", who: admin, method: http.MethodPut, path: "/roles/member",
			body: `{"parents":["auditor"]}`, wantCode: 400, wantErr: "invalid_json parents"},
		{name: "an admin cannot make a role inherit owner", who: admin, method: http.MethodPut, path: "/roles/auditor",
			body: `{"inherits":["owner"]}`, wantCode: 403, wantErr: "forbidden inherits"},
		{name: "an admin cannot change what owner inherits", who: admin, method: http.MethodPut, path: "/roles/owner",
			body: `{"inherits":["auditor"]}`, wantCode: 403, wantErr: "forbidden inherits"},
		{name: "an owner can make a role inherit owner", who: owner, method: http.MethodPut, path: "/roles/auditor",
			body: `{"inherits":["owner"]}`, wantCode: 200, wantJSON: `{"role":"auditor","inherits":["owner"]}`},
		{name: "an admin cannot inherit owner through that role", who: admin, method: http.MethodPut, path: "/roles/admin",
			body: `{"inherits":["auditor"]}`, wantCode: 403, wantErr: "forbidden inherits"},
		{name: "nor take owner away from it", who: admin, method: http.MethodPut, path: "/roles/auditor",
			body: `{"inherits":[]}`, wantCode: 403, wantErr: "forbidden inherits"},
		{name: "nor grant a user a role that inherits owner", who: admin, method: http.MethodPost, path: "/users",
			body: `{"id":"olga","roles":["auditor"]}`, wantCode: 403, wantErr: "forbidden roles"},
		{name: "nor put such a role in a group", who: admin, method: http.MethodPut, path: "/groups/aud",
			body: `{"members":["ada"],"roles":["auditor"]}`, wantCode: 403, wantErr: "forbidden roles"},
		{name: "nor delete a user who holds it", who: admin, method: http.MethodDelete, path: "/users/aud", wantCode: 403, wantErr: "forbidden "},
		{name: "an owner takes it away again", who: owner, method: http.MethodPut, path: "/roles/auditor",
			body: `{"inherits":[]}`, wantCode: 200, wantJSON: `{"role":"auditor","inherits":[]}`},
		{name: "an admin clears what member inherits", who: admin, method: http.MethodPut, path: "/roles/member",
			body: `{}`, wantCode: 200, wantJSON: `{"role":"member","inherits":[]}`},
		{name: "the role list is still there", who: auditor, method: http.MethodGet, path: "/roles", wantCode: 200,
			wantJSON: `{"roles":["admin","auditor","member","owner"]}`},
		{name: "roles have no other methods", who: admin, method: http.MethodPatch, path: "/roles/member",
			body: `{"inherits":[]}`, wantCode: 405, wantErr: "method_not_allowed "},
	})
	t.Run("a role's holders hold what it inherits, and it is audited", func(t *testing.T) {
		if code, _, _ := f.do(t, admin, http.MethodPut, "/roles/member", `{"inherits":["auditor"]}`); code != 200 {
			t.Fatalf("HTTP %d", code)
		}
		if !slices.Contains(f.authz.Roles("mia"), "auditor") {
			t.Errorf("mia's roles %v", f.authz.Roles("mia"))
		}
		acts := f.auditActions(t)
		for _, want := range []string{"role.inherit member", "role.inherit auditor"} {
			if !slices.Contains(acts, want) {
				t.Errorf("audit lacks %q: %v", want, acts)
			}
		}
	})
}
