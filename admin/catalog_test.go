package admin

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestCatalog(t *testing.T) {
	f := newFixture(t)
	ids := func(out map[string]any) []string {
		var s []string
		for _, v := range out["templates"].([]any) {
			s = append(s, v.(map[string]any)["id"].(string))
		}
		return s
	}
	t.Run("browse with search and the hosting filter", func(t *testing.T) {
		_, all, _ := f.do(t, member, http.MethodGet, "/catalog?limit=1000", "")
		_, hosted, _ := f.do(t, member, http.MethodGet, "/catalog?hosting=hosted&limit=1000", "")
		_, local, _ := f.do(t, member, http.MethodGet, "/catalog?hosting=local&limit=1000", "")
		if n := len(ids(all)); n < 20 || n != len(ids(hosted))+len(ids(local)) || all["version"] == "" {
			t.Errorf("all %d, hosted %d, local %d, version %v", n, len(ids(hosted)), len(ids(local)), all["version"])
		}
		_, out, _ := f.do(t, member, http.MethodGet, "/catalog?query=filesystem", "")
		if got := ids(out); !slices.Contains(got, "filesystem") {
			t.Errorf("search: %v", got)
		}
		if code, out, _ := f.do(t, member, http.MethodGet, "/catalog?hosting=cloud", ""); code != 400 || errField(out) != "hosting" {
			t.Errorf("bad hosting: %d %v", code, out)
		}
	})
	t.Run("a card shows the template", func(t *testing.T) {
		code, out, _ := f.do(t, member, http.MethodGet, "/catalog/everything", "")
		tpl, _ := out["template"].(map[string]any)
		if code != 200 || tpl["command"] != "npx" || len(tpl["tools"].([]any)) == 0 {
			t.Errorf("HTTP %d %v", code, out)
		}
		if code, _, _ := f.do(t, member, http.MethodGet, "/catalog/nope", ""); code != 404 {
			t.Errorf("unknown template: HTTP %d", code)
		}
	})
	t.Run("add from a template makes a pre-filled connector that still needs its secrets", func(t *testing.T) {
		code, out, _ := f.do(t, admin, http.MethodPost, "/catalog/stripe/connectors", `{}`)
		if code != 201 {
			t.Fatalf("HTTP %d %v", code, out)
		}
		c := out["connector"].(map[string]any)
		if c["slug"] != "stripe" || c["status"] != "disabled" || c["template"] != "stripe" || c["url"] == "" {
			t.Errorf("connector %v", c)
		}
		if m := out["missing"].([]any); len(m) != 1 || m[0] != "auth.token" {
			t.Errorf("missing %v", out["missing"])
		}
		_, card, _ := f.do(t, member, http.MethodGet, "/catalog/stripe", "")
		if made := card["connectors"].([]any); len(made) != 1 || made[0] != "stripe" {
			t.Errorf("card connectors %v", card["connectors"])
		}
		if scans, ok := card["scans"].([]any); !ok || len(scans) != 0 {
			t.Errorf("card scans %v (no pins in this fixture)", card["scans"])
		}
	})
	t.Run("a filled template makes an active connector", func(t *testing.T) {
		code, out, _ := f.do(t, admin, http.MethodPost, "/catalog/filesystem/connectors", `{"slug":"shared-drive","values":{"ALLOWED_DIRECTORY":"/srv/share"}}`)
		c, _ := out["connector"].(map[string]any)
		if code != 201 || c["status"] != "active" || c["hosting"] != "local" || !slices.Contains(toStrings(c["args"]), "/srv/share") {
			t.Errorf("HTTP %d %v", code, out)
		}
	})
	t.Run("bad input is named", func(t *testing.T) {
		for _, tc := range []struct{ path, body, field string }{
			{"/catalog/filesystem/connectors", `{"values":{"TYPO":"x"}}`, "values.TYPO"},
			{"/catalog/filesystem/connectors", `{"slug":"Bad Slug"}`, "slug"},
			{"/catalog/filesystem/connectors", `{"colour":"red"}`, "colour"},
			{"/catalog/stripe/connectors", `{}`, "slug"}, // taken
		} {
			code, out, _ := f.do(t, admin, http.MethodPost, tc.path, tc.body)
			if code < 400 || errField(out) != tc.field {
				t.Errorf("%s %s: HTTP %d %v, want field %q", tc.path, tc.body, code, out, tc.field)
			}
		}
		if code, _, _ := f.do(t, admin, http.MethodPost, "/catalog/nope/connectors", `{}`); code != 404 {
			t.Errorf("unknown template: HTTP %d", code)
		}
	})
	t.Run("members cannot add from the catalog", func(t *testing.T) {
		if code, _, _ := f.do(t, member, http.MethodPost, "/catalog/time/connectors", `{}`); code != 403 {
			t.Errorf("HTTP %d", code)
		}
	})
	custom := `{"id":"acme-crm","name":"Acme CRM","version":"1.0.0","description":"Our CRM.","publisher":"Acme","homepage":"https://crm.acme.example/mcp","category":"data","hosting":"hosted","transport":"streamable-http","url":"https://crm.acme.example/mcp","auth":{"kind":"none"},"headers":{"X-Api-Key":"{CRM_KEY}"},"env":[{"name":"CRM_KEY","description":"Your CRM key","required":true,"secret":true}],"tools":[{"name":"find_account","description":"Find an account"}]}`
	t.Run("admins add and delete their own templates", func(t *testing.T) {
		if code, out, _ := f.do(t, admin, http.MethodPost, "/catalog", custom); code != 201 || out["builtin"] != false || out["owner"] != "ada" {
			t.Fatalf("HTTP %d %v", code, out)
		}
		if code, _, _ := f.do(t, admin, http.MethodPost, "/catalog", custom); code != 409 {
			t.Errorf("duplicate: HTTP %d", code)
		}
		_, out, _ := f.do(t, member, http.MethodGet, "/catalog?query=acme", "")
		if got := ids(out); !slices.Equal(got, []string{"acme-crm"}) {
			t.Errorf("search %v", got)
		}
		// Header placeholders are each user's: the connector is active.
		code, out, _ := f.do(t, admin, http.MethodPost, "/catalog/acme-crm/connectors", `{}`)
		if c, _ := out["connector"].(map[string]any); code != 201 || c["status"] != "active" || !slices.Contains(toStrings(c["placeholders"]), "CRM_KEY") {
			t.Errorf("HTTP %d %v", code, out)
		}
		if code, _, _ := f.do(t, admin, http.MethodDelete, "/catalog/acme-crm", ""); code != 204 {
			t.Errorf("delete: HTTP %d", code)
		}
		if code, out, _ := f.do(t, admin, http.MethodDelete, "/catalog/github", ""); code != 409 || !strings.Contains(out["error"].(map[string]any)["message"].(string), "built-in") {
			t.Errorf("delete built-in: HTTP %d %v", code, out)
		}
		if code, out, _ := f.do(t, admin, http.MethodPost, "/catalog", strings.Replace(custom, `"data"`, `"toys"`, 1)); code != 422 || errField(out) != "category" {
			t.Errorf("bad category: HTTP %d %v", code, out)
		}
		if code, out, _ := f.do(t, admin, http.MethodPost, "/catalog", strings.Replace(custom, `"acme-crm"`, `"github"`, 1)); code != 409 || errField(out) != "id" {
			t.Errorf("built-in id: HTTP %d %v", code, out)
		}
		if code, _, _ := f.do(t, auditor, http.MethodPost, "/catalog", strings.Replace(custom, `"acme-crm"`, `"acme-2"`, 1)); code != 403 {
			t.Errorf("auditor write: HTTP %d", code)
		}
	})
	acts := f.auditActions(t)
	for _, want := range []string{"connector.create stripe", "catalog.create acme-crm", "catalog.delete acme-crm"} {
		if !slices.Contains(acts, want) {
			t.Errorf("audit lacks %q: %v", want, acts)
		}
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestRequests(t *testing.T) {
	f := newFixture(t)
	create := func(p string, body string) (int, map[string]any) {
		t.Helper()
		code, out, _ := f.do(t, member, http.MethodPost, "/requests", body)
		return code, out
	}
	code, req := create("mia", `{"template":"time","reason":"Scheduling across time zones"}`)
	if code != 201 || req["status"] != "pending" || req["requester"] != "mia" {
		t.Fatalf("create: HTTP %d %v", code, req)
	}
	id := req["id"].(string)
	t.Run("a duplicate pending request is refused", func(t *testing.T) {
		if code, out := create("mia", `{"template":"time","reason":"again"}`); code != 409 || out["error"].(map[string]any)["code"] != "duplicate_request" {
			t.Errorf("HTTP %d %v", code, out)
		}
	})
	t.Run("bad requests are named", func(t *testing.T) {
		for _, tc := range []struct{ body, field string }{
			{`{"template":"nope","reason":"x"}`, "template"},
			{`{"template":"time"}`, "reason"},
			{`{"reason":"x"}`, "template"},
			{`{"template":"time","manual":{"name":"x"},"reason":"x"}`, "template"},
			{`{"manual":{"name":"Internal","transport":"stdio"},"reason":"x"}`, "manual.command"},
			{`{"template":"memory","slug":"No Good","reason":"x"}`, "slug"},
		} {
			if code, out := create("mia", tc.body); code != 422 || errField(out) != tc.field {
				t.Errorf("%s: HTTP %d %v, want field %q", tc.body, code, out, tc.field)
			}
		}
	})
	t.Run("members see only their own requests", func(t *testing.T) {
		f.do(t, member2, http.MethodPost, "/requests", `{"template":"memory","reason":"notes"}`)
		_, out, _ := f.do(t, member, http.MethodGet, "/requests", "")
		if rs := out["requests"].([]any); len(rs) != 1 {
			t.Errorf("mia sees %v", rs)
		}
		if code, _, _ := f.do(t, member2, http.MethodGet, "/requests/"+id, ""); code != 404 {
			t.Errorf("max reads mia's request: HTTP %d", code)
		}
		if code, _, _ := f.do(t, member, http.MethodGet, "/requests?requester=max", ""); code != 403 {
			t.Errorf("mia lists max's: HTTP %d", code)
		}
		_, out, _ = f.do(t, auditor, http.MethodGet, "/requests?status=pending", "")
		if rs := out["requests"].([]any); len(rs) != 2 {
			t.Errorf("the auditor sees %d", len(rs))
		}
	})
	t.Run("a member cannot approve and an auditor cannot either", func(t *testing.T) {
		for _, p := range []string{"mia", "aud"} {
			who := member
			if p == "aud" {
				who = auditor
			}
			if code, _, _ := f.do(t, who, http.MethodPost, "/requests/"+id+"/approve", ""); code != 403 {
				t.Errorf("%s approves: HTTP %d", p, code)
			}
		}
	})
	t.Run("approval creates the connector and the requester sees the outcome", func(t *testing.T) {
		code, out, _ := f.do(t, admin, http.MethodPost, "/requests/"+id+"/approve", `{"note":"ok"}`)
		if code != 200 {
			t.Fatalf("HTTP %d %v", code, out)
		}
		if c := out["connector"].(map[string]any); c["slug"] != "time" || c["status"] != "active" {
			t.Errorf("connector %v", c)
		}
		_, mine, _ := f.do(t, member, http.MethodGet, "/requests/"+id, "")
		if mine["status"] != "approved" || mine["connector"] != "time" || mine["decided_by"] != "ada" {
			t.Errorf("requester sees %v", mine)
		}
		if _, ok := f.registry.Lookup("time"); !ok {
			t.Error("connector not in the registry")
		}
	})
	t.Run("double approval and approving a rejected request are refused", func(t *testing.T) {
		if code, out, _ := f.do(t, admin, http.MethodPost, "/requests/"+id+"/approve", ""); code != 409 || out["error"].(map[string]any)["code"] != "not_pending" {
			t.Errorf("double approve: HTTP %d %v", code, out)
		}
		_, out, _ := f.do(t, member2, http.MethodGet, "/requests", "")
		other := out["requests"].([]any)[0].(map[string]any)["id"].(string)
		if code, out, _ := f.do(t, admin, http.MethodPost, "/requests/"+other+"/reject", `{}`); code != 422 || errField(out) != "note" {
			t.Errorf("reject without note: HTTP %d %v", code, out)
		}
		if code, _, _ := f.do(t, admin, http.MethodPost, "/requests/"+other+"/reject", `{"note":"use the shared one"}`); code != 200 {
			t.Errorf("reject: HTTP %d", code)
		}
		if code, _, _ := f.do(t, admin, http.MethodPost, "/requests/"+other+"/approve", ""); code != 409 {
			t.Errorf("approve rejected: HTTP %d", code)
		}
		if _, ok := f.registry.Lookup("memory"); ok {
			t.Error("approving a rejected request created a connector")
		}
		_, mine, _ := f.do(t, member2, http.MethodGet, "/requests/"+other, "")
		if mine["status"] != "rejected" || mine["note"] != "use the shared one" {
			t.Errorf("requester sees %v", mine)
		}
	})
	t.Run("a manual request carries no secrets; the approver supplies them", func(t *testing.T) {
		for _, tc := range []struct{ body, field string }{
			{`{"manual":{"name":"Vault","url":"https://v.example/mcp","auth":{"kind":"bearer","token":"s3cret"}},"reason":"x"}`, "manual.auth.token"},
			{`{"manual":{"name":"DB","transport":"stdio","command":"db-mcp","env":{"DB_PASSWORD":"hunter2"}},"reason":"x"}`, "manual.env.DB_PASSWORD"},
			{`{"manual":{"name":"API","url":"https://a.example/mcp","headers":{"X-Key":"literal-key"}},"reason":"x"}`, "manual.headers.X-Key"},
		} {
			if code, out := create("mia", tc.body); code != 422 || errField(out) != tc.field {
				t.Errorf("%s: HTTP %d %v", tc.body, code, out)
			}
		}
		code, out := create("mia", `{"manual":{"name":"DB","transport":"stdio","command":"db-mcp","env":{"DB_PASSWORD":""}},"reason":"reports"}`)
		if code != 201 {
			t.Fatalf("HTTP %d %v", code, out)
		}
		rid := out["id"].(string)
		if code, res, _ := f.do(t, admin, http.MethodPost, "/requests/"+rid+"/approve", `{"values":{"NOPE":"x"}}`); code != 422 || errField(res) != "values.NOPE" {
			t.Errorf("unknown value: HTTP %d %v", code, res)
		}
		// The requested command would run on the gateway host: an admin
		// may not approve it into a connector, an owner may.
		if code, res, _ := f.do(t, admin, http.MethodPost, "/requests/"+rid+"/approve", `{"values":{"DB_PASSWORD":"hunter2"}}`); code != 403 || errField(res) != "command" {
			t.Fatalf("approve by an admin: HTTP %d %v", code, res)
		}
		if code, res, _ := f.do(t, owner, http.MethodPost, "/requests/"+rid+"/approve", `{"values":{"DB_PASSWORD":"hunter2"}}`); code != 200 {
			t.Fatalf("approve: HTTP %d %v", code, res)
		}
		stored, err := f.st.Connectors().Get(context.Background(), "db")
		if err != nil || stored.Env["DB_PASSWORD"] != "hunter2" {
			t.Errorf("stored env %v (%v)", stored, err)
		}
	})
	t.Run("a manual request is approved into its connector", func(t *testing.T) {
		code, out := create("mia", `{"manual":{"name":"Internal wiki","url":"https://wiki.internal.example/mcp"},"slug":"wiki","reason":"docs"}`)
		if code != 201 {
			t.Fatalf("HTTP %d %v", code, out)
		}
		code, res, _ := f.do(t, admin, http.MethodPost, "/requests/"+out["id"].(string)+"/approve", `{}`)
		if c, _ := res["connector"].(map[string]any); code != 200 || c["slug"] != "wiki" || c["status"] != "active" {
			t.Errorf("HTTP %d %v", code, res)
		}
	})
	t.Run("two admins approving at once create one connector", func(t *testing.T) {
		_, out := create("mia", `{"template":"sequential-thinking","reason":"planning"}`)
		rid := out["id"].(string)
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i], _, _ = f.do(t, admin, http.MethodPost, "/requests/"+rid+"/approve", `{}`)
			}()
		}
		wg.Wait()
		slices.Sort(codes)
		if codes[0] != 200 || codes[1] != 409 {
			t.Errorf("codes %v, want one 200 and one 409", codes)
		}
		if _, ok := f.registry.Lookup("sequential-thinking"); !ok {
			t.Error("the winning approval's connector is gone")
		}
	})
	acts := f.auditActions(t)
	for _, want := range []string{"request.create " + id, "request.approve " + id, "connector.create time"} {
		if !slices.Contains(acts, want) {
			t.Errorf("audit lacks %q", want)
		}
	}
}
