package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// approvalIDs lists the ids of an approval list answer, in order.
func approvalIDs(out map[string]any) []string {
	var ids []string
	list, _ := out["approvals"].([]any)
	for _, ap := range list {
		ids = append(ids, ap.(map[string]any)["id"].(string))
	}
	return ids
}

func errCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// TestApprovals runs through an approval's life: the steps share one
// registry and run in order.
func TestApprovals(t *testing.T) {
	f := newFixture(t)
	args := json.RawMessage(`{"x":1}`)
	first := openApproval(f, "mia", "github", "create_issue", args, "needs-approval", policy.ApproverAdmin, false)
	second := openApproval(f, "max", "github", "delete_repo", args, "needs-approval", policy.ApproverAdmin, false)
	third := openApproval(f, "mia", "github", "merge_pr", args, "needs-approval", policy.ApproverAdmin, false)
	all := newestFirst(first, second, third)

	tests := []struct {
		name               string
		who                auth.Principal
		method, path, body string
		wantCode           int
		// want are fields of the answer; wantIDs the ids of a list answer;
		// wantErr the error's code and field ("code field").
		want    map[string]any
		wantIDs []string
		wantErr string
	}{
		{name: "an auditor lists the pending approvals", who: auditor, method: http.MethodGet, path: "/approvals?status=pending",
			wantCode: 200, wantIDs: all},
		{name: "an admin lists every approval", who: admin, method: http.MethodGet, path: "/approvals", wantCode: 200, wantIDs: all},
		{name: "a member cannot list approvals", who: member, method: http.MethodGet, path: "/approvals",
			wantCode: 403, wantErr: "forbidden "},
		{name: "a bad status filter is refused", who: admin, method: http.MethodGet, path: "/approvals?status=maybe",
			wantCode: 400, wantErr: "invalid_parameter status"},
		{name: "an auditor reads one, arguments included", who: auditor, method: http.MethodGet, path: "/approvals/" + first.ID,
			wantCode: 200, want: map[string]any{"id": first.ID, "user": "mia", "connector": "github", "tool": "create_issue",
				"arguments": map[string]any{"x": float64(1)}, "rule": "needs-approval", "status": "pending"}},
		{name: "an unknown approval is not found", who: admin, method: http.MethodGet, path: "/approvals/apr_nope",
			wantCode: 404, wantErr: "not_found "},
		{name: "a member cannot approve", who: member, method: http.MethodPost, path: "/approvals/" + first.ID + "/approve",
			wantCode: 403, wantErr: "forbidden "},
		{name: "an auditor cannot approve", who: auditor, method: http.MethodPost, path: "/approvals/" + first.ID + "/approve",
			wantCode: 403, wantErr: "forbidden "},
		{name: "an admin approves", who: admin, method: http.MethodPost, path: "/approvals/" + first.ID + "/approve",
			wantCode: 200, want: map[string]any{"id": first.ID, "status": "approved", "decided_by": "ada", "via": "admin-api"}},
		{name: "approving twice is a conflict", who: admin, method: http.MethodPost, path: "/approvals/" + first.ID + "/approve",
			wantCode: 409, wantErr: "not_pending "},
		{name: "denying a decided approval is a conflict too", who: owner, method: http.MethodPost, path: "/approvals/" + first.ID + "/deny",
			body: `{"note":"too late"}`, wantCode: 409, wantErr: "not_pending "},
		{name: "an admin denies with a note", who: admin, method: http.MethodPost, path: "/approvals/" + second.ID + "/deny",
			body: `{"note":"not on Fridays"}`, wantCode: 200,
			want: map[string]any{"id": second.ID, "status": "denied", "decided_by": "ada", "note": "not on Fridays"}},
		{name: "deciding an unknown approval is not found", who: admin, method: http.MethodPost, path: "/approvals/apr_nope/approve",
			wantCode: 404, wantErr: "not_found "},
		{name: "a note over 1000 characters is refused", who: admin, method: http.MethodPost, path: "/approvals/" + third.ID + "/deny",
			body: `{"note":"` + strings.Repeat("n", 1001) + `"}`, wantCode: 422, wantErr: "invalid_field note"},
		{name: "an unknown field is refused", who: admin, method: http.MethodPost, path: "/approvals/" + third.ID + "/approve",
			body: `{"colour":"red"}`, wantCode: 400, wantErr: "invalid_json colour"},
		{name: "the status filter finds the approved one", who: auditor, method: http.MethodGet, path: "/approvals?status=approved",
			wantCode: 200, wantIDs: []string{first.ID}},
		{name: "the status filter finds the denied one", who: auditor, method: http.MethodGet, path: "/approvals?status=denied",
			wantCode: 200, wantIDs: []string{second.ID}},
		{name: "the refused decisions left the third pending", who: auditor, method: http.MethodGet, path: "/approvals?status=pending",
			wantCode: 200, wantIDs: []string{third.ID}},
		{name: "nothing expired", who: auditor, method: http.MethodGet, path: "/approvals?status=expired", wantCode: 200, wantIDs: nil},
		{name: "approvals have no other methods", who: admin, method: http.MethodDelete, path: "/approvals/" + third.ID,
			wantCode: 405, wantErr: "method_not_allowed "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, _ := f.do(t, tc.who, tc.method, tc.path, tc.body)
			if code != tc.wantCode {
				t.Fatalf("HTTP %d %v, want %d", code, out, tc.wantCode)
			}
			for k, v := range tc.want {
				if got, _ := json.Marshal(out[k]); string(got) != mustJSON(t, v) {
					t.Errorf("%s = %s, want %s", k, got, mustJSON(t, v))
				}
			}
			if tc.wantIDs != nil || strings.HasPrefix(tc.path, "/approvals?") {
				if got := approvalIDs(out); !slices.Equal(got, tc.wantIDs) {
					t.Errorf("ids %v, want %v", got, tc.wantIDs)
				}
			}
			if tc.wantErr != "" {
				if got := errCode(out) + " " + errField(out); got != tc.wantErr {
					t.Errorf("error %q, want %q", got, tc.wantErr)
				}
			}
		})
	}
	t.Run("the registry holds the decisions", func(t *testing.T) {
		for id, want := range map[string]string{first.ID: access.ApprovalApproved, second.ID: access.ApprovalDenied, third.ID: access.ApprovalPending} {
			if ap, ok := f.approvals.Get(id); !ok || ap.Status != want {
				t.Errorf("%s: %s, want %s", id, ap.Status, want)
			}
		}
	})
}

// openApproval holds a call in the fixture's registry.
func openApproval(f *fixture, user, slug, tool string, args json.RawMessage, rule, approver string, sensitive bool) *access.Approval {
	hash, _ := access.ArgsHash(args)
	return f.approvals.Open(access.Binding{User: user, Connector: slug, Tool: tool, ArgsHash: hash, Rule: rule, PolicyVersion: 1}, args, approver, sensitive)
}

// TestApprovalsTakeTheRulesApprover: the admin API decides an approval
// only for a principal the rule's approver names, never the caller.
func TestApprovalsTakeTheRulesApprover(t *testing.T) {
	f := newFixture(t)
	finance := auth.Principal{User: "fin", Roles: []string{auth.RoleMember, "finance"}}
	financeAdmin := auth.Principal{User: "fia", Roles: []string{auth.RoleAdmin, "finance"}}
	if err := f.authz.DefineRole("finance"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []auth.Principal{finance, financeAdmin} {
		if err := f.authz.SetRoles(p.User, p.Roles); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		caller   string // who made the held call
		approver string
		who      auth.Principal
		action   string
		wantCode int
	}{
		{"an admin does not approve their own call", "ada", policy.ApproverAdmin, admin, "approve", 403},
		{"an owner does not approve their own call", "owner", policy.ApproverAdmin, owner, "approve", 403},
		{"an admin approves another's call", "mia", policy.ApproverAdmin, admin, "approve", 200},
		{"an owner approves for approver admin", "mia", policy.ApproverAdmin, owner, "approve", 200},
		{"an admin without the role is refused for role:finance", "mia", "role:finance", admin, "approve", 403},
		{"an owner without the role is refused for role:finance", "mia", "role:finance", owner, "approve", 403},
		{"a holder of the role who may use the API approves for role:finance", "mia", "role:finance", financeAdmin, "approve", 200},
		{"the caller does not approve through the role they hold", "fia", "role:finance", financeAdmin, "approve", 403},
		{"a role holder without the approvals permission is refused first", "mia", "role:finance", finance, "approve", 403},
		{"an admin may deny their own call (withdraw it)", "ada", policy.ApproverAdmin, admin, "deny", 200},
		{"an admin decides for approver caller", "mia", policy.ApproverCaller, admin, "approve", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ap := openApproval(f, tc.caller, "github", "create_issue", nil, "hold", tc.approver, false)
			code, out, _ := f.do(t, tc.who, http.MethodPost, "/approvals/"+ap.ID+"/"+tc.action, "")
			if code != tc.wantCode {
				t.Fatalf("HTTP %d %v, want %d", code, out, tc.wantCode)
			}
			got, _ := f.approvals.Get(ap.ID)
			if (code == 200) != (got.Status != access.ApprovalPending) {
				t.Errorf("status %s after HTTP %d", got.Status, code)
			}
			if code == 403 && tc.who.User != "fin" && (errCode(out) != "not_approver" || !strings.Contains(fmt.Sprint(out), tc.approver)) {
				t.Errorf("refusal %v does not name the approver %s", out, tc.approver)
			}
		})
	}
}

// newestFirst orders approvals as the registry lists them: newest first,
// ties by id.
func newestFirst(aps ...*access.Approval) []string {
	slices.SortFunc(aps, func(x, y *access.Approval) int {
		if c := y.CreatedAt.Compare(x.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	ids := make([]string, len(aps))
	for i, ap := range aps {
		ids[i] = ap.ID
	}
	return ids
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSensitiveApprovals: the tool and arguments of a sensitive
// connector's approval are shown only to those who may see the connector.
func TestSensitiveApprovals(t *testing.T) {
	f := newFixture(t)
	body := `{"name":"Vault","url":"https://vault.example.com/mcp","status":"active","advanced":{"sensitive":true,"sensitive_roles":["auditor"]}}`
	if code, out, _ := f.do(t, owner, http.MethodPost, "/connectors", body); code != http.StatusCreated {
		t.Fatalf("connector: HTTP %d %v", code, out)
	}
	ap := openApproval(f, "mia", "vault", "read_secret", json.RawMessage(`{"x":1}`), "vault-approval", policy.ApproverAdmin, true)
	tests := []struct {
		name     string
		who      auth.Principal
		wantTool string
		wantArgs bool
	}{
		{"a caller without the connector's role sees the tool redacted", admin, redacted, false},
		{"a caller with the connector's role sees the tool", auditor, "read_secret", true},
		{"the connector's owner sees the tool", owner, "read_secret", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, one, _ := f.do(t, tc.who, http.MethodGet, "/approvals/"+ap.ID, "")
			_, list, _ := f.do(t, tc.who, http.MethodGet, "/approvals", "")
			listed := list["approvals"].([]any)[0].(map[string]any)
			for where, got := range map[string]map[string]any{"get": one, "list": listed} {
				_, hasArgs := got["arguments"]
				if got["tool"] != tc.wantTool || hasArgs != tc.wantArgs || got["connector"] != "vault" {
					t.Errorf("%s: tool %v, arguments %v", where, got["tool"], got["arguments"])
				}
			}
		})
	}
	t.Run("a caller who may not see it cannot decide it either", func(t *testing.T) {
		if code, out, _ := f.do(t, admin, http.MethodPost, "/approvals/"+ap.ID+"/approve", ""); code != http.StatusNotFound {
			t.Errorf("HTTP %d %v", code, out)
		}
		if got, _ := f.approvals.Get(ap.ID); got.Status != access.ApprovalPending {
			t.Errorf("status %s after a refused decision", got.Status)
		}
		if code, out, _ := f.do(t, owner, http.MethodPost, "/approvals/"+ap.ID+"/approve", `{"note":"ok"}`); code != http.StatusOK || out["tool"] != "read_secret" {
			t.Errorf("owner: HTTP %d %v", code, out)
		}
	})
}
