package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestPolicyEndpoints(t *testing.T) {
	f := newFixture(t)
	if code, out, _ := f.do(t, owner, http.MethodPost, "/connectors", `{"name":"GitHub","url":"https://gh.example.com/mcp","status":"active"}`); code != 201 {
		t.Fatalf("connector: %d %v", code, out)
	}
	rule := `{"subject":"role:member","connector":"github","kind":"tool","name":"create_issue","actions":["call"],"effect":"allow","condition":"args.repo.glob(\"acme/*\")"}`
	code, out, _ := f.do(t, admin, http.MethodPut, "/policies/rules/members-acme", rule)
	if code != 200 || out["rule"].(map[string]any)["id"] != "members-acme" {
		t.Fatalf("put: HTTP %d %v", code, out)
	}
	dry := func(args string) map[string]any {
		_, out, _ := f.do(t, auditor, http.MethodPost, "/policies/dry-run", `{"user":"mia","connector":"github","name":"create_issue","arguments":`+args+`}`)
		return out
	}
	if out := dry(`{"repo":"acme/api"}`); out["effect"] != "allow" || out["rule"] != "members-acme" {
		t.Errorf("dry-run allowed: %v", out)
	}
	if out := dry(`{"repo":"evil/api"}`); out["effect"] != "deny" || !strings.Contains(out["reason"].(string), "acme/*") {
		t.Errorf("dry-run denied: %v", out)
	}
	t.Run("bad rules are named", func(t *testing.T) {
		for _, tc := range []struct{ body, field, msg string }{
			{strings.Replace(rule, `"allow"`, `"maybe"`, 1), "effect", "not one of"},
			{strings.Replace(rule, `glob(\"acme/*\")`, `globs(\"acme/*\")`, 1), "condition", "line 1, column 16: undeclared reference to 'globs' (did you mean 'glob'?)"},
			{strings.Replace(rule, `"tool"`, `"widget"`, 1), "kind", ""},
			{`{"subject":"role:member","colour":"red"}`, "colour", ""},
			{strings.Replace(rule, `"effect":"allow"`, `"effect":"require-approval","approver":"anyone"`, 1), "approver", "not caller, admin or role:<name>"},
			{strings.Replace(rule, `"effect":"allow"`, `"effect":"require-approval","approver":"group:eng"`, 1), "approver", "not caller, admin or role:<name>"},
			{strings.Replace(rule, `"effect":"allow"`, `"effect":"allow","approver":"admin"`, 1), "approver", "require-approval rules only"},
		} {
			code, out, _ := f.do(t, admin, http.MethodPut, "/policies/rules/bad", tc.body)
			e, _ := out["error"].(map[string]any)
			if code < 400 || errField(out) != tc.field || !strings.Contains(e["message"].(string), tc.msg) {
				t.Errorf("%s: HTTP %d %v", tc.body, code, out)
			}
		}
	})
	t.Run("a bad approver is a 422 naming the field", func(t *testing.T) {
		code, out, _ := f.do(t, admin, http.MethodPut, "/policies/rules/bad", strings.Replace(rule, `"effect":"allow"`, `"effect":"require-approval","approver":"anyone"`, 1))
		if code != http.StatusUnprocessableEntity || errField(out) != "approver" {
			t.Errorf("HTTP %d %v", code, out)
		}
	})
	t.Run("a new require-approval rule's approver is admin unless it names one", func(t *testing.T) {
		for body, want := range map[string]string{
			strings.Replace(rule, `"effect":"allow"`, `"effect":"require-approval"`, 1):                           "admin",
			strings.Replace(rule, `"effect":"allow"`, `"effect":"require-approval","approver":"role:finance"`, 1): "role:finance",
			strings.Replace(rule, `"effect":"allow"`, `"effect":"require-approval","approver":"caller"`, 1):       "caller",
		} {
			code, out, _ := f.do(t, admin, http.MethodPut, "/policies/rules/held", body)
			if r, _ := out["rule"].(map[string]any); code != 200 || r["approver"] != want {
				t.Errorf("%s: HTTP %d %v, want approver %s", body, code, out, want)
			}
			_, list, _ := f.do(t, auditor, http.MethodGet, "/policies/rules", "")
			found := false
			for _, r := range list["rules"].([]any) {
				r := r.(map[string]any)
				found = found || r["id"] == "held" && r["approver"] == want
			}
			if !found {
				t.Errorf("the listed rule held lacks approver %s: %v", want, list)
			}
		}
		if code, out, _ := f.do(t, admin, http.MethodDelete, "/policies/rules/held", ""); code >= 300 {
			t.Fatalf("delete: HTTP %d %v", code, out)
		}
	})
	t.Run("an unknown connector is a warning, not silent", func(t *testing.T) {
		code, out, _ := f.do(t, admin, http.MethodPut, "/policies/rules/ghost", strings.Replace(rule, `"github"`, `"jira"`, 1))
		if w, _ := out["warnings"].([]any); code != 200 || len(w) != 1 || !strings.Contains(w[0].(string), "does not exist") {
			t.Errorf("HTTP %d %v", code, out)
		}
	})
	t.Run("export then import round-trips; a bad import changes nothing", func(t *testing.T) {
		_, exported, ctx := f.do(t, auditor, http.MethodGet, "/policies/export", "")
		if n := len(exported["rules"].([]any)); n != 2 {
			t.Fatalf("exported %d", n)
		}
		body := string(ctx.Response.Body())
		if code, out, _ := f.do(t, admin, http.MethodPost, "/policies/import", body); code != 200 || out["imported"] != float64(2) {
			t.Errorf("import: HTTP %d %v", code, out)
		}
		bad := `{"rules":[` + rule + `,{"id":"x","subject":"nobody","connector":"*","kind":"tool","name":"*","actions":["list"],"effect":"allow"}]}`
		if code, out, _ := f.do(t, admin, http.MethodPost, "/policies/import", bad); code != 422 || errField(out) != "id" && errField(out) != "subject" {
			t.Errorf("bad import: HTTP %d %v", code, out)
		}
		_, after, _ := f.do(t, auditor, http.MethodGet, "/policies/rules", "")
		if n := len(after["rules"].([]any)); n != 2 {
			t.Errorf("%d rules after a refused import", n)
		}
	})
	t.Run("authorization", func(t *testing.T) {
		if code, _, _ := f.do(t, auditor, http.MethodPut, "/policies/rules/x", rule); code != 403 {
			t.Errorf("auditor write: HTTP %d", code)
		}
		if code, _, _ := f.do(t, member, http.MethodGet, "/policies/rules", ""); code != 403 {
			t.Errorf("member read: HTTP %d", code)
		}
	})
	if code, _, _ := f.do(t, admin, http.MethodDelete, "/policies/rules/ghost", ""); code != 204 {
		t.Errorf("delete: HTTP %d", code)
	}
	acts := f.auditActions(t)
	for _, want := range []string{"policy.put members-acme", "policy.import ", "policy.delete ghost"} {
		if !slices.Contains(acts, want) {
			t.Errorf("audit lacks %q", want)
		}
	}
}

func TestRuleWarningsForConnectorsSkippingValidation(t *testing.T) {
	f := newFixture(t)
	for _, body := range []string{
		`{"name":"Raw","url":"https://raw.example.com/mcp","status":"active","advanced":{"skip_input_validation":true}}`,
		`{"name":"Checked","url":"https://checked.example.com/mcp","status":"active"}`,
	} {
		if code, out, _ := f.do(t, owner, http.MethodPost, "/connectors", body); code != http.StatusCreated {
			t.Fatalf("connector: %d %v", code, out)
		}
	}
	const skipping = `connector "raw" skips input validation: this rule's condition is ignored there, so the rule neither allows nor denies`
	tests := []struct {
		name, connector, condition string
		want                       []string
	}{
		{"a condition on a connector that skips validation is a warning", "raw", `args.repo == "acme/api"`, []string{skipping}},
		{"a rule without a condition there is not", "raw", "", nil},
		{"a condition on a connector that validates is not", "checked", `args.repo == "acme/api"`, nil},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rule := map[string]any{"subject": "role:member", "connector": tc.connector, "kind": "tool", "name": "search",
				"actions": []string{"call"}, "effect": "allow"}
			if tc.condition != "" {
				rule["condition"] = tc.condition
			}
			body, _ := json.Marshal(rule)
			code, out, _ := f.do(t, admin, http.MethodPut, "/policies/rules/r"+strconv.Itoa(i), string(body))
			if code != http.StatusOK {
				t.Fatalf("HTTP %d %v", code, out)
			}
			var got []string
			for _, w := range out["warnings"].([]any) {
				got = append(got, w.(string))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("warnings %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("an import warns per rule", func(t *testing.T) {
		body := `{"rules":[{"id":"cond","subject":"role:member","connector":"raw","kind":"tool","name":"search","actions":["call"],"effect":"deny","condition":"args.x == 1"}]}`
		code, out, _ := f.do(t, admin, http.MethodPost, "/policies/import", body)
		if w, _ := out["warnings"].([]any); code != http.StatusOK || len(w) != 1 || w[0] != "cond: "+skipping {
			t.Errorf("HTTP %d %v", code, out)
		}
	})
}

func TestRuleWarningsForConflictingRules(t *testing.T) {
	f := newFixture(t)
	if code, out, _ := f.do(t, owner, http.MethodPost, "/connectors", `{"name":"GitHub","url":"https://gh.example.com/mcp","status":"active"}`); code != 201 {
		t.Fatalf("connector: %d %v", code, out)
	}
	put := func(id, effect string) []string {
		t.Helper()
		body := `{"subject":"role:member","connector":"github","kind":"tool","name":"delete_repo","actions":["call"],"effect":"` + effect + `"}`
		code, out, _ := f.do(t, admin, http.MethodPut, "/policies/rules/"+id, body)
		if code != http.StatusOK {
			t.Fatalf("put %s: HTTP %d %v", id, code, out)
		}
		var got []string
		for _, w := range out["warnings"].([]any) {
			got = append(got, w.(string))
		}
		return got
	}
	if w := put("no-delete", "deny"); len(w) != 0 {
		t.Errorf("the first rule: %q", w)
	}
	w := put("allow-delete", "allow")
	if len(w) != 1 || !strings.Contains(w[0], "conflicts with rule no-delete (deny)") || !strings.Contains(w[0], "deny wins, by rule no-delete") {
		t.Errorf("an allow under a deny: %q", w)
	}
	if d := put("no-delete-again", "deny"); len(d) != 2 || !strings.Contains(strings.Join(d, "|"), "rule no-delete already denys") {
		t.Errorf("a duplicate deny: %q", d)
	}
	t.Run("an import compares the imported rules with each other", func(t *testing.T) {
		body := `{"rules":[
			{"id":"a","subject":"user:mia","connector":"*","kind":"*","name":"*","actions":["call"],"effect":"allow"},
			{"id":"b","subject":"user:mia","connector":"github","kind":"tool","name":"x","actions":["call","list"],"effect":"require-approval"}]}`
		code, out, _ := f.do(t, admin, http.MethodPost, "/policies/import", body)
		if code != http.StatusOK {
			t.Fatalf("import: HTTP %d %v", code, out)
		}
		got := fmt.Sprint(out["warnings"])
		if !strings.Contains(got, "a: conflicts with rule b (require-approval)") || !strings.Contains(got, "b: conflicts with rule a (allow)") {
			t.Errorf("warnings %s", got)
		}
	})
}

func TestRuleWarningsForSubjectsThatNameNobody(t *testing.T) {
	f := newFixture(t)
	if code, out, _ := f.do(t, admin, http.MethodPut, "/groups/ops", `{"members":["mia"],"roles":[]}`); code != http.StatusOK {
		t.Fatalf("group: HTTP %d %v", code, out)
	}
	tests := []struct {
		subject string
		want    string // part of the only warning; "" for none
	}{
		{"role:member", ""},
		{"role:deployer", `role "deployer" does not exist (yet)`},
		{"group:ops", ""},
		{"group:nobody", `group "nobody" has no members (yet)`},
		{"user:mia", ""},
		{"user:ghost", `user "ghost" does not exist (yet)`},
		{"*", ""},
	}
	for i, tc := range tests {
		t.Run(tc.subject, func(t *testing.T) {
			body := `{"subject":"` + tc.subject + `","connector":"*","kind":"tool","name":"t` + strconv.Itoa(i) + `","actions":["call"],"effect":"allow"}`
			code, out, _ := f.do(t, admin, http.MethodPut, "/policies/rules/s"+strconv.Itoa(i), body)
			if code != http.StatusOK {
				t.Fatalf("HTTP %d %v", code, out)
			}
			w, _ := out["warnings"].([]any)
			switch {
			case tc.want == "" && len(w) != 0:
				t.Errorf("warnings %v, want none", w)
			case tc.want != "" && (len(w) != 1 || !strings.Contains(w[0].(string), tc.want)):
				t.Errorf("warnings %v, want one with %q", w, tc.want)
			}
		})
	}
}

func TestDryRunForTheAnonymousUser(t *testing.T) {
	f := newFixture(t)
	f.api.AnonymousUser, f.api.AnonymousRoles = "local", []string{"admin"}
	if code, out, _ := f.do(t, admin, http.MethodPut, "/policies/rules/admins", `{"subject":"role:admin","connector":"*","kind":"*","name":"*","actions":["call"],"effect":"allow"}`); code != http.StatusOK {
		t.Fatalf("rule: HTTP %d %v", code, out)
	}
	_, out, _ := f.do(t, auditor, http.MethodPost, "/policies/dry-run", `{"user":"local","connector":"any","name":"t"}`)
	if out["effect"] != "allow" || out["rule"] != "admins" {
		t.Errorf("the anonymous user, an admin by configuration: %v", out)
	}
	_, out, _ = f.do(t, auditor, http.MethodPost, "/policies/dry-run", `{"user":"someone","connector":"any","name":"t"}`)
	if out["effect"] != "deny" {
		t.Errorf("another user: %v", out)
	}
}
