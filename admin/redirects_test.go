package admin

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/auth/redirect"
	"github.com/gatehouse-mcp/gatehouse/core/store"
)

func redirectFixture(t *testing.T) (*fixture, *redirect.Rules) {
	t.Helper()
	f := newFixture(t)
	rules, err := redirect.New(context.Background(), f.st.Meta(), store.ErrNotFound, f.audit)
	if err != nil {
		t.Fatal(err)
	}
	f.api.Redirects = rules
	return f, rules
}

func TestRedirectRulesPermissions(t *testing.T) {
	f, _ := redirectFixture(t)
	add := `{"list":"allowed","uri":"https://app.example.com/cb"}`
	for _, tt := range []struct {
		name         string
		who          string
		method, path string
		body         string
		want         int
	}{
		{"a member cannot list the rules", "member", http.MethodGet, "/redirects", "", http.StatusForbidden},
		{"a member cannot add a rule", "member", http.MethodPost, "/redirects", add, http.StatusForbidden},
		{"a member cannot see pending URIs", "member", http.MethodGet, "/redirects/pending", "", http.StatusForbidden},
		{"an auditor cannot add a rule", "auditor", http.MethodPost, "/redirects", add, http.StatusForbidden},
		{"an auditor reads the rules", "auditor", http.MethodGet, "/redirects", "", http.StatusOK},
		{"an auditor reads pending URIs", "auditor", http.MethodGet, "/redirects/pending", "", http.StatusOK},
		{"an admin adds a rule", "admin", http.MethodPost, "/redirects", add, http.StatusCreated},
		{"an owner adds a rule", "owner", http.MethodPost, "/redirects", `{"list":"blocked","uri":"https://evil.com/cb"}`, http.StatusCreated},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := map[string]auth.Principal{"member": member, "auditor": auditor, "admin": admin, "owner": owner}[tt.who]
			code, out, _ := f.do(t, p, tt.method, tt.path, tt.body)
			if code != tt.want {
				t.Fatalf("got %d %v, want %d", code, out, tt.want)
			}
		})
	}
	code, out, _ := f.do(t, member, http.MethodGet, "/redirects", "")
	if code != http.StatusForbidden || !strings.Contains(errMessage(out), "redirects") {
		t.Fatalf("member: %d %v", code, out)
	}
}

func TestRedirectApproveAndDenyMoveTheURI(t *testing.T) {
	f, rules := redirectFixture(t)
	ctx := context.Background()
	da, err := rules.Decide(ctx, redirect.Request{URI: "https://partner.org/cb", ClientID: "https://partner.org/client.json", User: "mia", Source: "cimd"})
	if err != nil || da.Outcome != redirect.Pending {
		t.Fatalf("decide: %+v %v", da, err)
	}
	dd, _ := rules.Decide(ctx, redirect.Request{URI: "https://shady.org/cb", ClientID: "dcr-1", User: "max", Source: "dcr"})

	code, out, _ := f.do(t, admin, http.MethodGet, "/redirects/pending", "")
	if list, _ := out["pending"].([]any); code != http.StatusOK || len(list) != 2 {
		t.Fatalf("pending: %d %v", code, out)
	}
	code, out, _ = f.do(t, admin, http.MethodGet, "/redirects/pending/"+da.PendingID, "")
	if askers, _ := out["askers"].([]any); code != http.StatusOK || len(askers) != 1 || askers[0].(map[string]any)["user"] != "mia" {
		t.Fatalf("pending %s: %d %v", da.PendingID, code, out)
	}
	if code, out, _ := f.do(t, member, http.MethodPost, "/redirects/pending/"+da.PendingID+"/approve", ""); code != http.StatusForbidden {
		t.Fatalf("a member approved: %d %v", code, out)
	}

	code, out, _ = f.do(t, admin, http.MethodPost, "/redirects/pending/"+da.PendingID+"/approve", `{"note":"partner"}`)
	if code != http.StatusOK || out["list"] != "allowed" || out["uri"] != "https://partner.org/cb" || out["approval"] != da.PendingID {
		t.Fatalf("approve: %d %v", code, out)
	}
	code, out, _ = f.do(t, owner, http.MethodPost, "/redirects/pending/"+dd.PendingID+"/deny", "")
	if code != http.StatusOK || out["list"] != "blocked" {
		t.Fatalf("deny: %d %v", code, out)
	}
	code, out, _ = f.do(t, admin, http.MethodPost, "/redirects/pending/"+dd.PendingID+"/deny", "")
	if code != http.StatusNotFound {
		t.Fatalf("deny twice: %d %v", code, out)
	}

	if d, _ := rules.Decide(ctx, redirect.Request{URI: "https://partner.org/cb"}); d.Outcome != redirect.Allowed {
		t.Fatalf("approved URI: %+v", d)
	}
	if d, _ := rules.Decide(ctx, redirect.Request{URI: "https://shady.org/cb"}); d.Outcome != redirect.Blocked {
		t.Fatalf("denied URI: %+v", d)
	}
	code, out, _ = f.do(t, auditor, http.MethodGet, "/redirects?list=blocked", "")
	if list, _ := out["rules"].([]any); code != http.StatusOK || len(list) != 1 || list[0].(map[string]any)["uri"] != "https://shady.org/cb" {
		t.Fatalf("blocked list: %d %v", code, out)
	}

	var actions []string
	err = f.audit.Query(ctx, audit.Filter{Action: "redirect."}, func(e *audit.Entry) (bool, error) {
		actions = append(actions, e.Action+" "+e.Actor+" "+e.Target)
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"redirect.pause mia https://partner.org/cb",
		"redirect.pause max https://shady.org/cb",
		"redirect.approve ada https://partner.org/cb",
		"redirect.deny owner https://shady.org/cb",
		"redirect.allow client: https://partner.org/cb",
		"redirect.block client: https://shady.org/cb",
	}
	if strings.Join(actions, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audited:\n%s\nwant:\n%s", strings.Join(actions, "\n"), strings.Join(want, "\n"))
	}
}

func TestRedirectRuleEdits(t *testing.T) {
	f, _ := redirectFixture(t)
	for _, tt := range []struct {
		name, body string
		want       int
		field      string
	}{
		{"an unsafe URI is refused naming why", `{"list":"allowed","uri":"http://evil.com/cb"}`, http.StatusUnprocessableEntity, "uri"},
		{"a wildcard over a public suffix is refused", `{"list":"allowed","uri":"https://*.github.io/cb"}`, http.StatusUnprocessableEntity, "uri"},
		{"an unknown list is refused", `{"list":"maybe","uri":"https://a.org/cb"}`, http.StatusUnprocessableEntity, "list"},
		{"an unknown field is refused", `{"list":"allowed","uri":"https://a.org/cb","extra":1}`, http.StatusBadRequest, "extra"},
		{"an empty body is refused", ``, http.StatusBadRequest, ""},
		{"a long note is refused", `{"list":"allowed","uri":"https://a.org/cb","note":"` + strings.Repeat("n", 1001) + `"}`, http.StatusUnprocessableEntity, "note"},
		{"a wildcard is added", `{"list":"allowed","uri":"https://*.Example.com/cb"}`, http.StatusCreated, ""},
		{"the same pattern again conflicts", `{"list":"blocked","uri":"https://*.example.com:443/cb"}`, http.StatusConflict, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, _ := f.do(t, admin, http.MethodPost, "/redirects", tt.body)
			if code != tt.want || errField(out) != tt.field {
				t.Fatalf("got %d %v, want %d field %q", code, out, tt.want, tt.field)
			}
		})
	}
	code, out, _ := f.do(t, admin, http.MethodPost, "/redirects/check", `{"uri":"https://foo.example.com/cb"}`)
	if code != http.StatusOK || out["outcome"] != "allowed" || out["rule"] != "https://*.example.com/cb" {
		t.Fatalf("check: %d %v", code, out)
	}
	code, out, _ = f.do(t, admin, http.MethodPost, "/redirects/check", `{"uri":"https://good.com@evil.com/"}`)
	if code != http.StatusOK || out["outcome"] != "blocked" || out["class"] != "userinfo" {
		t.Fatalf("check: %d %v", code, out)
	}
	_, out, _ = f.do(t, admin, http.MethodGet, "/redirects", "")
	id := out["rules"].([]any)[0].(map[string]any)["id"].(string)
	if code, out, _ := f.do(t, member, http.MethodDelete, "/redirects/"+id, ""); code != http.StatusForbidden {
		t.Fatalf("a member removed a rule: %d %v", code, out)
	}
	code, out, _ = f.do(t, admin, http.MethodDelete, "/redirects/"+id, "")
	if code != http.StatusOK || out["id"] != id {
		t.Fatalf("remove: %d %v", code, out)
	}
	code, _, _ = f.do(t, admin, http.MethodDelete, "/redirects/"+id, "")
	if code != http.StatusNotFound {
		t.Fatalf("remove twice: %d", code)
	}
	if got := strings.Join(f.auditActions(t), "\n"); !strings.Contains(got, "redirect.rule.add https://*.example.com/cb") || !strings.Contains(got, "redirect.rule.remove https://*.example.com/cb") {
		t.Fatalf("not audited: %s", got)
	}
}
