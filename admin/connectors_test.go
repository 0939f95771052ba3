package admin

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
)

// raw runs one admin request and returns its context, response unread.
func (f *fixture) raw(t testing.TB, p auth.Principal, method, path, body string, headers ...string) *fasthttp.RequestCtx {
	t.Helper()
	ctx := new(fasthttp.RequestCtx)
	ctx.Request.Header.SetMethod(method)
	ctx.Request.SetRequestURI("http://gatehouse/admin/v1" + path)
	for i := 0; i+1 < len(headers); i += 2 {
		ctx.Request.Header.Set(headers[i], headers[i+1])
	}
	ctx.Request.SetBodyString(body)
	f.api.ServeAdmin(ctx, p)
	if f.contract != nil {
		f.contract.check(t, ctx)
	}
	return ctx
}

// do runs one admin request and decodes the JSON answer into a map.
func (f *fixture) do(t *testing.T, p auth.Principal, method, path, body string, headers ...string) (int, map[string]any, *fasthttp.RequestCtx) {
	t.Helper()
	ctx := f.raw(t, p, method, path, body, headers...)
	var out map[string]any
	if b := ctx.Response.Body(); len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: %q is not JSON", method, path, b)
		}
	}
	return ctx.Response.StatusCode(), out, ctx
}

func errField(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	s, _ := e["field"].(string)
	return s
}

const stdioBody = `{"name":"Files","slug":"files","description":"Reads the shared drive","transport":"stdio","command":"/usr/bin/files-mcp","env":{"API_KEY":"env-secret"},"status":"active"}`

func TestConnectorLifecycle(t *testing.T) {
	f := newFixture(t)
	code, out, ctx := f.do(t, owner, http.MethodPost, "/connectors", stdioBody)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, out)
	}
	if env, _ := out["env"].(map[string]any); env["API_KEY"] != redacted {
		t.Errorf("env shown as %v, want redacted", out["env"])
	}
	if out["owner"] != "owner" || string(ctx.Response.Header.Peek("ETag")) != `"1"` {
		t.Errorf("owner %v, ETag %s", out["owner"], ctx.Response.Header.Peek("ETag"))
	}
	if _, ok := f.registry.Lookup("files"); !ok {
		t.Error("the registry does not hold the new connector")
	}

	t.Run("a patch merges, keeps a redacted secret and bumps the version", func(t *testing.T) {
		code, out, _ := f.do(t, owner, http.MethodPatch, "/connectors/files", `{"description":"Reads and lists","env":{"API_KEY":"[redacted]","REGION":"eu"}}`, "If-Match", `"1"`)
		if code != http.StatusOK || out["description"] != "Reads and lists" || out["version"] != float64(2) {
			t.Fatalf("patch: %d %v", code, out)
		}
		stored, err := f.st.Connectors().Get(t.Context(), "files")
		if err != nil || stored.Env["API_KEY"] != "env-secret" || stored.Env["REGION"] != "eu" {
			t.Errorf("stored env %v (%v)", stored.Env, err)
		}
		if len(*f.changed) == 0 || (*f.changed)[len(*f.changed)-1] != "files" {
			t.Errorf("open sessions were not told: %v", *f.changed)
		}
	})
	t.Run("a stale If-Match is refused", func(t *testing.T) {
		if code, _, _ := f.do(t, owner, http.MethodPatch, "/connectors/files", `{"description":"x"}`, "If-Match", `"1"`); code != http.StatusPreconditionFailed {
			t.Errorf("HTTP %d, want 412", code)
		}
	})
	t.Run("an invalid patch names the field and changes nothing", func(t *testing.T) {
		code, out, _ := f.do(t, owner, http.MethodPatch, "/connectors/files", `{"transport":"pigeon"}`)
		if code != http.StatusUnprocessableEntity || errField(out) != "transport" {
			t.Errorf("HTTP %d %v", code, out)
		}
		if code, out, _ := f.do(t, owner, http.MethodPatch, "/connectors/files", `{"slug":"other"}`); code != http.StatusBadRequest || errField(out) != "slug" {
			t.Errorf("slug change: HTTP %d %v", code, out)
		}
		c, _ := f.st.Connectors().Get(t.Context(), "files")
		if c.Transport != connector.TransportSTDIO || c.Version != 2 {
			t.Errorf("stored connector changed: %s v%d", c.Transport, c.Version)
		}
	})
	t.Run("a member cannot write", func(t *testing.T) {
		for _, req := range []struct{ method, path, body string }{
			{http.MethodPost, "/connectors", strings.Replace(stdioBody, `"files"`, `"files2"`, 1)},
			{http.MethodPatch, "/connectors/files", `{"description":"x"}`},
			{http.MethodDelete, "/connectors/files", ""},
		} {
			if code, _, _ := f.do(t, member, req.method, req.path, req.body); code != http.StatusForbidden {
				t.Errorf("%s %s as member: HTTP %d", req.method, req.path, code)
			}
		}
	})
	t.Run("delete removes it everywhere", func(t *testing.T) {
		if code, _, _ := f.do(t, owner, http.MethodDelete, "/connectors/files", ""); code != http.StatusNoContent {
			t.Fatalf("HTTP %d", code)
		}
		if code, _, _ := f.do(t, owner, http.MethodGet, "/connectors/files", ""); code != http.StatusNotFound {
			t.Errorf("after delete: HTTP %d", code)
		}
		if _, ok := f.registry.Lookup("files"); ok {
			t.Error("the registry still holds it")
		}
	})
}

func TestConnectorListing(t *testing.T) {
	f := newFixture(t)
	for _, body := range []string{
		`{"name":"GitHub","description":"Issues and pull requests","url":"https://api.example.com/mcp","auth":{"kind":"bearer","token":"ghp_secret"},"status":"active"}`,
		`{"name":"Postgres","description":"Query the warehouse","transport":"stdio","command":"pg-mcp","status":"disabled"}`,
		`{"name":"Secret project","description":"Not ready","transport":"stdio","command":"x","status":"draft"}`,
	} {
		if code, out, _ := f.do(t, owner, http.MethodPost, "/connectors", body); code != http.StatusCreated {
			t.Fatalf("create: %d %v", code, out)
		}
	}
	slugs := func(out map[string]any) []string {
		var s []string
		list, _ := out["connectors"].([]any)
		for _, c := range list {
			s = append(s, c.(map[string]any)["slug"].(string))
		}
		return s
	}
	tests := []struct {
		name  string
		who   auth.Principal
		query string
		want  string
	}{
		{"the owner sees everything, drafts included", owner, "", "github,postgres,secret-project"},
		{"another user does not see the draft", member, "", "github,postgres"},
		{"query searches names", owner, "?query=post", "postgres"},
		{"query searches descriptions, case-insensitively", owner, "?query=PULL", "github"},
		{"the draft is not found by search for others", member, "?query=secret", ""},
		{"status filters", owner, "?status=disabled", "postgres"},
		{"transport filters", owner, "?transport=streamable-http", "github"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, _ := f.do(t, tc.who, http.MethodGet, "/connectors"+tc.query, "")
			if got := strings.Join(slugs(out), ","); code != 200 || got != tc.want {
				t.Errorf("HTTP %d, slugs %q, want %q", code, got, tc.want)
			}
		})
	}
	t.Run("a bearer token never comes back", func(t *testing.T) {
		_, out, ctx := f.do(t, owner, http.MethodGet, "/connectors/github", "")
		if strings.Contains(string(ctx.Response.Body()), "ghp_secret") || out["auth_token_set"] != true {
			t.Errorf("body %s", ctx.Response.Body())
		}
	})
	t.Run("someone else's draft is not found", func(t *testing.T) {
		if code, _, _ := f.do(t, member, http.MethodGet, "/connectors/secret-project", ""); code != http.StatusNotFound {
			t.Errorf("HTTP %d", code)
		}
	})
}

func TestCredentials(t *testing.T) {
	f := newFixture(t)
	if code, out, _ := f.do(t, owner, http.MethodPost, "/connectors", `{"name":"API","url":"https://api.example.com/mcp","headers":{"X-Key":"{API_KEY}"},"status":"active"}`); code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, out)
	} else if ph, _ := out["placeholders"].([]any); len(ph) != 1 || ph[0] != "API_KEY" {
		t.Errorf("placeholders %v", out["placeholders"])
	}
	if code, _, _ := f.do(t, member, http.MethodPut, "/connectors/api/credentials", `{"values":{"API_KEY":"mine"}}`); code != http.StatusNoContent {
		t.Fatalf("set: HTTP %d", code)
	}
	got, err := f.st.Credentials().Get(t.Context(), "mia", "api")
	if err != nil || got["API_KEY"] != "mine" {
		t.Errorf("stored %v %v", got, err)
	}
	if code, out, _ := f.do(t, member, http.MethodPut, "/connectors/api/credentials", `{"values":{"OTHER":"x"}}`); code != http.StatusUnprocessableEntity || errField(out) != "values.OTHER" {
		t.Errorf("unknown placeholder: HTTP %d %v", code, out)
	}
}

func TestConnectorNotices(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, body  string
		wantNotices []any
	}{
		{"a connector that skips input validation says so",
			`{"name":"Raw","url":"https://raw.example.com/mcp","status":"active","advanced":{"skip_input_validation":true}}`,
			[]any{SkipValidationNotice}},
		{"a connector that validates input has no notices",
			`{"name":"Checked","url":"https://checked.example.com/mcp","status":"active"}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, _ := f.do(t, owner, http.MethodPost, "/connectors", tc.body)
			if code != http.StatusCreated {
				t.Fatalf("create: HTTP %d %v", code, out)
			}
			slug := out["slug"].(string)
			_, got, _ := f.do(t, member, http.MethodGet, "/connectors/"+slug, "")
			_, list, _ := f.do(t, member, http.MethodGet, "/connectors?query="+slug, "")
			listed := list["connectors"].([]any)[0].(map[string]any)
			for where, v := range map[string]map[string]any{"create": out, "get": got, "list": listed} {
				notices, present := v["notices"].([]any)
				if tc.wantNotices == nil && present || !slices.Equal(notices, tc.wantNotices) {
					t.Errorf("%s: notices %v, want %v", where, v["notices"], tc.wantNotices)
				}
			}
		})
	}
}
