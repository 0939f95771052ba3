package admin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
)

func TestAuditEndpoints(t *testing.T) {
	f := newFixture(t)
	for _, body := range []string{
		`{"name":"HR","description":"People data","url":"https://hr.example.com/mcp","status":"active","advanced":{"sensitive":true,"sensitive_roles":["auditor"]}}`,
		`{"name":"Payroll","url":"https://pay.example.com/mcp","status":"active","advanced":{"sensitive":true,"sensitive_roles":["finance"]}}`,
	} {
		if code, out, _ := f.do(t, owner, http.MethodPost, "/connectors", body); code != 201 {
			t.Fatalf("create: %d %v", code, out)
		}
	}
	for _, c := range []string{"hr", "payroll"} {
		if err := f.audit.Append(context.Background(), &audit.Entry{Actor: "mia", Action: audit.ActionToolCall, Connector: c,
			Tool: "lookup_salary", Error: "employee 42 missing", Outcome: audit.OutcomeError, Sensitive: true}); err != nil {
			t.Fatal(err)
		}
	}
	entries := func(out map[string]any) []map[string]any {
		var es []map[string]any
		for _, e := range out["entries"].([]any) {
			es = append(es, e.(map[string]any))
		}
		return es
	}
	t.Run("admin actions are in the log with their actor", func(t *testing.T) {
		code, out, _ := f.do(t, auditor, http.MethodGet, "/audit?action=connector.create", "")
		es := entries(out)
		if code != 200 || len(es) != 2 || es[0]["actor"] != "owner" || es[0]["target"] != "hr" {
			t.Fatalf("HTTP %d %v", code, out)
		}
	})
	t.Run("a sensitive entry is clear to a selected role and redacted to others", func(t *testing.T) {
		_, out, _ := f.do(t, auditor, http.MethodGet, "/audit?action=tool.call", "")
		es := entries(out)
		if len(es) != 2 {
			t.Fatalf("%v", out)
		}
		if es[0]["connector"] != "hr" || es[0]["tool"] != "lookup_salary" || es[0]["redacted"] == true {
			t.Errorf("hr entry to an auditor (a selected role): %v", es[0])
		}
		if es[1]["connector"] != audit.Redacted || es[1]["tool"] != audit.Redacted || es[1]["error"] != audit.Redacted || es[1]["redacted"] != true {
			t.Errorf("payroll entry to an auditor (not selected): %v", es[1])
		}
		_, out, _ = f.do(t, owner, http.MethodGet, "/audit?action=tool.call&connector=payroll", "")
		if es := entries(out); len(es) != 1 || es[0]["tool"] != "lookup_salary" {
			t.Errorf("payroll entry to the owner: %v", out)
		}
	})
	t.Run("pages follow the cursor", func(t *testing.T) {
		_, out, _ := f.do(t, auditor, http.MethodGet, "/audit?limit=1", "")
		first := entries(out)
		next, _ := out["next_cursor"].(string)
		if len(first) != 1 || next == "" {
			t.Fatalf("%v", out)
		}
		_, out, _ = f.do(t, auditor, http.MethodGet, "/audit?limit=1&cursor="+next, "")
		if second := entries(out); len(second) != 1 || second[0]["id"] == first[0]["id"] {
			t.Errorf("page 2 %v", out)
		}
	})
	t.Run("bad parameters are named", func(t *testing.T) {
		for _, q := range []string{"from=yesterday", "to=tomorrow", "limit=5000"} {
			code, out, _ := f.do(t, auditor, http.MethodGet, "/audit?"+q, "")
			if code != 400 || errField(out) != strings.Split(q, "=")[0] {
				t.Errorf("%s: HTTP %d %v", q, code, out)
			}
		}
	})
	t.Run("export streams JSON lines, redacted alike, and is itself audited", func(t *testing.T) {
		var ctx = f.raw(t, auditor, http.MethodGet, "/audit/export?connector=payroll", "")
		if ct := string(ctx.Response.Header.ContentType()); ct != "application/x-ndjson" {
			t.Errorf("content type %q", ct)
		}
		var buf bytes.Buffer
		w := bufio.NewWriter(&buf)
		if err := ctx.Response.BodyWriteTo(w); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		var n int
		for _, line := range lines {
			var e audit.Entry
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			if e.Action == audit.ActionToolCall {
				n++
				if e.Tool != audit.Redacted {
					t.Errorf("exported payroll call not redacted: %+v", e)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d tool calls exported, want 1: %q", n, buf.String())
		}
		if acts := f.auditActions(t); acts[len(acts)-1] != "audit.export " {
			t.Errorf("last action %q", acts[len(acts)-1])
		}
	})
	t.Run("members cannot read or export", func(t *testing.T) {
		for _, p := range []string{"/audit", "/audit/export"} {
			if code, _, _ := f.do(t, member, http.MethodGet, p, ""); code != 403 {
				t.Errorf("%s: HTTP %d", p, code)
			}
		}
	})
	t.Run("the log cannot be written or deleted through the API", func(t *testing.T) {
		for _, m := range []string{http.MethodPost, http.MethodDelete, http.MethodPatch} {
			if code, _, _ := f.do(t, owner, m, "/audit", `{}`); code != http.StatusMethodNotAllowed {
				t.Errorf("%s: HTTP %d", m, code)
			}
		}
	})
}

// TestAdminActionsOnSensitiveConnectorsAreSensitive: every admin action
// about a sensitive connector (its update, credentials, scan, tool
// approval, a rule naming it, its deletion) is marked sensitive, so an
// auditor outside its roles sees neither its slug nor the details.
func TestAdminActionsOnSensitiveConnectorsAreSensitive(t *testing.T) {
	f := newFixture(t)
	steps := []struct{ method, path, body string }{
		{http.MethodPost, "/connectors", `{"name":"Payroll","slug":"payroll","url":"https://payroll.example.com/mcp","headers":{"X-Emp":"{EMP_ID}"},"advanced":{"sensitive":true,"sensitive_roles":["hr"]},"status":"active"}`},
		{http.MethodPatch, "/connectors/payroll", `{"description":"salaries"}`},
		{http.MethodPut, "/connectors/payroll/credentials", `{"values":{"EMP_ID":"e-42"}}`},
		{http.MethodPut, "/policies/rules/payroll-hr", `{"subject":"role:hr","connector":"payroll","kind":"tool","name":"*","actions":["call"],"effect":"allow"}`},
		{http.MethodDelete, "/connectors/payroll", ""},
	}
	for _, s := range steps {
		if code, out, _ := f.do(t, owner, s.method, s.path, s.body); code >= 300 {
			t.Fatalf("%s %s: %d %v", s.method, s.path, code, out)
		}
	}
	_, out, ctx := f.do(t, auditor, http.MethodGet, "/audit", "")
	if strings.Contains(string(ctx.Response.Body()), "payroll") {
		t.Errorf("the auditor learns the slug: %s", ctx.Response.Body())
	}
	n := 0
	for _, raw := range out["entries"].([]any) {
		e := raw.(map[string]any)
		if e["actor"] == owner.User && e["action"] != "audit.export" {
			n++
			if e["sensitive"] != true || e["redacted"] != true {
				t.Errorf("entry %v is not marked sensitive and redacted", e)
			}
		}
	}
	if n < len(steps) {
		t.Errorf("%d entries about the sensitive connector, want at least %d", n, len(steps))
	}
}
