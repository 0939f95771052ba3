package main

import (
	"net/url"
	"testing"
)

// Tests of the approvals, groups and roles commands; the harness is in
// cli_test.go.

const (
	pendingApproval = `{"id":"apr_1","user":"mia","connector":"github","tool":"create_issue","arguments":{"repo": "acme/api"},
		"rule":"needs-approval","approver":"admin","status":"pending","created_at":"2026-11-05T10:00:00Z","expires_at":"2026-11-05T10:05:00Z"}`
	approvedApproval = `{"id":"apr_1","user":"mia","connector":"github","tool":"create_issue","arguments":{"repo":"acme/api"},
		"rule":"needs-approval","status":"approved","created_at":"2026-11-05T10:00:00Z","expires_at":"2026-11-05T10:05:00Z",
		"decided_by":"ada","decided_at":"2026-11-05T10:01:00Z","via":"admin-api","note":"ok"}`
	deniedApproval = `{"id":"apr_2","user":"max","connector":"vault","tool":"[redacted]","rule":"vault","status":"denied",
		"created_at":"2026-11-05T09:00:00Z","expires_at":"2026-11-05T09:05:00Z","decided_by":"ada",
		"decided_at":"2026-11-05T09:01:00Z","via":"admin-api","sensitive":true}`
)

func TestApprovalsCommands(t *testing.T) {
	runCases(t, []cliCase{
		{
			name: "list prints a row per approval",
			args: []string{"approvals", "list"},
			exchanges: []exchange{{method: "GET", path: "/approvals",
				answer: `{"approvals":[` + pendingApproval + `,` + deniedApproval + `]}`}},
			wantOut: []string{
				"ID     USER  CONNECTOR  TOOL          RULE            STATUS   CREATED               DECIDED BY",
				"apr_1  mia   github     create_issue  needs-approval  pending  2026-11-05T10:00:00Z",
				"apr_2  max   vault      [redacted]    vault           denied   2026-11-05T09:00:00Z  ada",
			},
		},
		{
			name: "list sends the status filter",
			args: []string{"approvals", "list", "--status", "pending", "--json"},
			exchanges: []exchange{{method: "GET", path: "/approvals", query: url.Values{"status": {"pending"}},
				answer: `{"approvals":[` + pendingApproval + `]}`}},
			wantJSON: `{"approvals":[` + pendingApproval + `]}`,
		},
		{
			name:    "list with a bad status fails before asking, naming the statuses",
			args:    []string{"approvals", "list", "--status", "maybe"},
			wantErr: `--status "maybe" is not one of: pending, approved, denied, expired, abandoned`,
		},
		{
			name:      "show prints the call with its arguments",
			args:      []string{"approvals", "show", "apr_1"},
			exchanges: []exchange{{method: "GET", path: "/approvals/apr_1", answer: pendingApproval}},
			wantOut: []string{"id:        apr_1\n", "tool:      create_issue\n", "approver:  admin\n", `arguments: {"repo":"acme/api"}` + "\n",
				"status:    pending\n", "expires:   2026-11-05T10:05:00Z\n"},
		},
		{
			name:      "show of a sensitive connector's approval shows what the API shows",
			args:      []string{"approvals", "show", "apr_2"},
			exchanges: []exchange{{method: "GET", path: "/approvals/apr_2", answer: deniedApproval}},
			wantOut:   []string{"tool:       [redacted]\n", "sensitive:  yes\n", "decided by: ada\n"},
		},
		{
			name: "approve sends the note and prints the decision",
			args: []string{"approvals", "approve", "apr_1", "--note", "ok"},
			exchanges: []exchange{{method: "POST", path: "/approvals/apr_1/approve", body: `{"note":"ok"}`,
				answer: approvedApproval}},
			wantOut: []string{"status:     approved\n", "decided by: ada\n", "via:        admin-api\n", "note:       ok\n"},
		},
		{
			name:      "approve without a note sends an empty object",
			args:      []string{"approvals", "approve", "apr_1", "--json"},
			exchanges: []exchange{{method: "POST", path: "/approvals/apr_1/approve", body: `{}`, answer: approvedApproval}},
			wantJSON:  approvedApproval,
		},
		{
			name: "approving a decided approval fails",
			args: []string{"approvals", "approve", "apr_1"},
			exchanges: []exchange{{method: "POST", path: "/approvals/apr_1/approve", body: `{}`, status: 409,
				answer: `{"error":{"code":"not_pending","message":"apr_1: approval is no longer pending: it was approved by ada"}}`}},
			wantErr: "HTTP 409 not_pending: apr_1: approval is no longer pending: it was approved by ada",
		},
		{
			name: "deny sends the note",
			args: []string{"approvals", "deny", "apr_2", "--note", "not on Fridays"},
			exchanges: []exchange{{method: "POST", path: "/approvals/apr_2/deny", body: `{"note":"not on Fridays"}`,
				answer: deniedApproval}},
			wantOut: []string{"status:     denied\n"},
		},
		{
			name: "deny as a member fails with the API's error",
			args: []string{"approvals", "deny", "apr_2"},
			exchanges: []exchange{{method: "POST", path: "/approvals/apr_2/deny", body: `{}`, status: 403,
				answer: `{"error":{"code":"forbidden","message":"your roles (member) do not allow approve on approvals"}}`}},
			wantErr: "HTTP 403 forbidden: your roles (member) do not allow approve on approvals",
		},
		{
			name:    "show needs an id",
			args:    []string{"approvals", "show"},
			wantErr: "accepts 1 arg(s), received 0",
		},
	})
}

const engGroup = `{"name":"eng","members":["max","mia"],"roles":["auditor","deployer"]}`

func TestGroupsAndRolesCommands(t *testing.T) {
	runCases(t, []cliCase{
		{
			name: "groups list prints a row per group",
			args: []string{"groups", "list"},
			exchanges: []exchange{{method: "GET", path: "/groups",
				answer: `{"groups":[` + engGroup + `,{"name":"ops","members":[],"roles":["admin"]}]}`}},
			wantOut: []string{"NAME  MEMBERS   ROLES", "eng   max, mia  auditor, deployer", "ops   -         admin"},
		},
		{
			name:      "groups show",
			args:      []string{"groups", "show", "eng"},
			exchanges: []exchange{{method: "GET", path: "/groups/eng", answer: engGroup}},
			wantOut:   []string{"name:    eng\n", "members: max, mia\n", "roles:   auditor, deployer\n"},
		},
		{
			name: "groups show of an unknown group fails",
			args: []string{"groups", "show", "nope"},
			exchanges: []exchange{{method: "GET", path: "/groups/nope", status: 404,
				answer: `{"error":{"code":"not_found","message":"no group \"nope\""}}`}},
			wantErr: `HTTP 404 not_found: no group "nope"`,
		},
		{
			name: "groups put sends every member and role",
			args: []string{"groups", "put", "eng", "--member", "mia", "--member", "max", "--role", "auditor,deployer"},
			exchanges: []exchange{{method: "PUT", path: "/groups/eng",
				body: `{"members":["mia","max"],"roles":["auditor","deployer"]}`, answer: engGroup}},
			wantOut: []string{"members: max, mia\n"},
		},
		{
			name: "groups put with roles only sends no members",
			args: []string{"groups", "put", "ops", "--role", "admin", "--json"},
			exchanges: []exchange{{method: "PUT", path: "/groups/ops", body: `{"members":[],"roles":["admin"]}`,
				answer: `{"name":"ops","members":[],"roles":["admin"]}`}},
			wantJSON: `{"name":"ops","members":[],"roles":["admin"]}`,
		},
		{
			name: "groups put with an unknown member fails with the API's error",
			args: []string{"groups", "put", "eng", "--member", "ghost"},
			exchanges: []exchange{{method: "PUT", path: "/groups/eng", body: `{"members":["ghost"],"roles":[]}`, status: 422,
				answer: `{"error":{"code":"invalid_field","message":"user \"ghost\" does not exist","field":"members"}}`}},
			wantErr: `HTTP 422 invalid_field: user "ghost" does not exist (field members)`,
		},
		{
			name:    "groups put needs members or roles",
			args:    []string{"groups", "put", "eng"},
			wantErr: "at least one of the flags in the group [member role] is required",
		},
		{
			name:      "groups delete",
			args:      []string{"groups", "delete", "eng"},
			exchanges: []exchange{{method: "DELETE", path: "/groups/eng", status: 204}},
			wantOut:   []string{"group eng deleted"},
		},
		{
			name: "roles list prints one role a line",
			args: []string{"roles", "list"},
			exchanges: []exchange{{method: "GET", path: "/roles",
				answer: `{"roles":["admin","auditor","deployer","member","owner"]}`}},
			wantExactOut: "ROLE\nadmin\nauditor\ndeployer\nmember\nowner\n",
		},
		{
			name:      "roles show",
			args:      []string{"roles", "show", "deployer"},
			exchanges: []exchange{{method: "GET", path: "/roles/deployer", answer: `{"role":"deployer","inherits":["member"]}`}},
			wantOut:   []string{"role:     deployer\n", "inherits: member\n"},
		},
		{
			name: "roles inherit sets the parents",
			args: []string{"roles", "inherit", "deployer", "--from", "member", "--from", "auditor"},
			exchanges: []exchange{{method: "PUT", path: "/roles/deployer", body: `{"inherits":["member","auditor"]}`,
				answer: `{"role":"deployer","inherits":["auditor","member"]}`}},
			wantOut: []string{"inherits: auditor, member\n"},
		},
		{
			name: "roles inherit --from \"\" clears them",
			args: []string{"roles", "inherit", "deployer", "--from", "", "--json"},
			exchanges: []exchange{{method: "PUT", path: "/roles/deployer", body: `{"inherits":[]}`,
				answer: `{"role":"deployer","inherits":[]}`}},
			wantJSON: `{"role":"deployer","inherits":[]}`,
		},
		{
			name: "roles inherit refuses a cycle with the API's error",
			args: []string{"roles", "inherit", "member", "--from", "deployer"},
			exchanges: []exchange{{method: "PUT", path: "/roles/member", body: `{"inherits":["deployer"]}`, status: 422,
				answer: `{"error":{"code":"invalid_field","message":"role inheritance cycle: member would inherit itself through deployer","field":"inherits"}}`}},
			wantErr: "HTTP 422 invalid_field: role inheritance cycle: member would inherit itself through deployer (field inherits)",
		},
		{
			name: "roles inherit of owner as an admin fails with the API's error",
			args: []string{"roles", "inherit", "deployer", "--from", "owner"},
			exchanges: []exchange{{method: "PUT", path: "/roles/deployer", body: `{"inherits":["owner"]}`, status: 403,
				answer: `{"error":{"code":"forbidden","message":"only an owner may make a role inherit the owner role, or change what the owner role inherits","field":"inherits"}}`}},
			wantErr: "HTTP 403 forbidden: only an owner may make a role inherit the owner role, or change what the owner role inherits (field inherits)",
		},
		{
			name:    "roles inherit needs --from",
			args:    []string{"roles", "inherit", "deployer"},
			wantErr: `required flag(s) "from" not set`,
		},
	})
}
