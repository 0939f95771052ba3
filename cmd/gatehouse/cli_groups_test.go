package main

import (
	"net/url"
	"os"
	"strings"
	"testing"
)

// Tests of the catalog, requests, users, tokens, audit and analytics
// commands; the harness is in cli_test.go.

const stripeTemplate = `{"id":"stripe","name":"Stripe","version":"1.0.0","description":"Stripe's MCP server","publisher":"Stripe",
	"homepage":"https://stripe.com","category":"productivity","hosting":"hosted","transport":"streamable-http",
	"url":"https://mcp.stripe.com","auth":{"kind":"bearer"},
	"env":[{"name":"ACCOUNT","description":"account","required":true,"secret":false}],
	"tools":[{"name":"create_customer","description":"d"},{"name":"list_invoices","description":"d"}],"builtin":true}`

func TestCatalogCommands(t *testing.T) {
	runCases(t, []cliCase{
		{
			name: "list sends the query and hosting",
			args: []string{"catalog", "list", "--query", "pay", "--hosting", "hosted"},
			exchanges: []exchange{{method: "GET", path: "/catalog", query: url.Values{"query": {"pay"}, "hosting": {"hosted"}},
				answer: `{"version":"2026.11.1","templates":[` + stripeTemplate + `],"total":1,"next_cursor":""}`}},
			wantOut: []string{"ID      NAME    CATEGORY      HOSTING  TRANSPORT        BUILTIN",
				"stripe  Stripe  productivity  hosted   streamable-http  yes"},
		},
		{
			name: "show prints the card and the connectors made from it",
			args: []string{"catalog", "show", "stripe"},
			exchanges: []exchange{{method: "GET", path: "/catalog/stripe",
				answer: `{"template":` + stripeTemplate + `,"catalog_version":"2026.11.1","connectors":["stripe","stripe-eu"]}`}},
			wantOut: []string{"id:              stripe\n", "values:          ACCOUNT (required)\n",
				"tools:           create_customer, list_invoices\n", "connectors:      stripe, stripe-eu\n"},
		},
		{
			name: "add fills the template and shows what is missing",
			args: []string{"catalog", "add", "stripe", "--slug", "pay", "--name", "Payments", "--value", "ACCOUNT=acct_1",
				"--upstream-token", "sk_live", "--status", "disabled"},
			exchanges: []exchange{{method: "POST", path: "/catalog/stripe/connectors", status: 201,
				body:   `{"slug":"pay","name":"Payments","values":{"ACCOUNT":"acct_1"},"token":"sk_live","status":"disabled"}`,
				answer: `{"connector":` + stripeConnector + `,"missing":["auth.token","ACCOUNT"]}`}},
			wantOut: []string{"slug:      stripe\n", "\nmissing: auth.token, ACCOUNT\n"},
		},
		{
			name: "add with nothing to fill sends an empty object and says nothing is missing",
			args: []string{"catalog", "add", "stripe"},
			exchanges: []exchange{{method: "POST", path: "/catalog/stripe/connectors", status: 201, body: `{}`,
				answer: `{"connector":` + stripeConnector + `,"missing":[]}`}},
			wantOut: []string{"missing: none"},
		},
		{
			name: "add reports the field the API names",
			args: []string{"catalog", "add", "stripe", "--value", "TYPO=x"},
			exchanges: []exchange{{method: "POST", path: "/catalog/stripe/connectors", status: 422, body: `{"values":{"TYPO":"x"}}`,
				answer: `{"error":{"code":"invalid_field","message":"template stripe has no value TYPO","field":"values.TYPO"}}`}},
			wantErr: "HTTP 422 invalid_field: template stripe has no value TYPO (field values.TYPO)",
		},
		{
			name:      "create sends the template file as given",
			args:      []string{"catalog", "create", "--file", "{dir}/t.json", "--json"},
			files:     map[string]string{"t.json": stripeTemplate},
			exchanges: []exchange{{method: "POST", path: "/catalog", status: 201, rawBody: stripeTemplate, answer: stripeTemplate}},
			wantJSON:  stripeTemplate,
		},
		{
			name: "delete of a built-in template fails",
			args: []string{"catalog", "delete", "stripe"},
			exchanges: []exchange{{method: "DELETE", path: "/catalog/stripe", status: 409,
				answer: `{"error":{"code":"builtin","message":"built-in templates ship with Gatehouse and cannot be deleted"}}`}},
			wantErr: "HTTP 409 builtin: built-in templates ship with Gatehouse and cannot be deleted",
		},
		{
			name:      "delete",
			args:      []string{"catalog", "delete", "mine"},
			exchanges: []exchange{{method: "DELETE", path: "/catalog/mine", status: 204}},
			wantOut:   []string{"template mine deleted"},
		},
	})
}

const (
	pendingRequest = `{"id":"r1","requester":"mia","template":"github","slug":"gh","reason":"triage issues","status":"pending",
		"created_at":"2026-11-03T09:00:00Z","updated_at":"2026-11-03T09:00:00Z","version":1}`
	approvedRequest = `{"id":"r1","requester":"mia","template":"github","slug":"gh","reason":"triage issues","status":"approved",
		"note":"ok","decided_by":"ada","decided_at":"2026-11-03T10:00:00Z","connector":"github",
		"created_at":"2026-11-03T09:00:00Z","updated_at":"2026-11-03T10:00:00Z","version":2}`
	manualRequest = `{"id":"r2","requester":"mia","manual":{"id":"","slug":"wiki","name":"Wiki","transport":"streamable-http",
		"url":"https://wiki.example.com/mcp","auth":{"kind":"auto"},"status":"draft","owner":"mia","advanced":{},
		"created_at":"0001-01-01T00:00:00Z","updated_at":"0001-01-01T00:00:00Z","version":0},"reason":"docs","status":"pending",
		"created_at":"2026-11-03T09:00:00Z","updated_at":"2026-11-03T09:00:00Z","version":1}`
)

func TestRequestsCommands(t *testing.T) {
	runCases(t, []cliCase{
		{
			name: "list sends status and requester",
			args: []string{"requests", "list", "--status", "pending", "--requester", "mia"},
			exchanges: []exchange{{method: "GET", path: "/requests", query: url.Values{"status": {"pending"}, "requester": {"mia"}},
				answer: `{"requests":[` + pendingRequest + `,` + manualRequest + `],"total":2,"next_cursor":""}`}},
			wantOut: []string{"ID  REQUESTER  SUBJECT", "r1  mia        template:github", "r2  mia        url:https://wiki.example.com/mcp"},
		},
		{
			name:      "show",
			args:      []string{"requests", "show", "r1"},
			exchanges: []exchange{{method: "GET", path: "/requests/r1", answer: approvedRequest}},
			wantOut:   []string{"status:     approved\n", "decided by: ada\n", "connector:  github\n"},
		},
		{
			name: "create from a template",
			args: []string{"requests", "create", "--template", "github", "--reason", "triage issues", "--slug", "gh"},
			exchanges: []exchange{{method: "POST", path: "/requests", status: 201,
				body: `{"template":"github","reason":"triage issues","slug":"gh"}`, answer: pendingRequest}},
			wantOut: []string{"id:        r1\n", "status:    pending\n"},
		},
		{
			name:  "create from a manual description embeds the file",
			args:  []string{"requests", "create", "--manual-file", "{dir}/m.json", "--reason", "docs"},
			files: map[string]string{"m.json": `{"name":"Wiki","url":"https://wiki.example.com/mcp"}`},
			exchanges: []exchange{{method: "POST", path: "/requests", status: 201,
				body: `{"manual":{"name":"Wiki","url":"https://wiki.example.com/mcp"},"reason":"docs"}`, answer: manualRequest}},
			wantOut: []string{"subject:     url:https://wiki.example.com/mcp\n", "manual name: Wiki\n"},
		},
		{
			name:    "create needs a template or a manual description",
			args:    []string{"requests", "create", "--reason", "docs"},
			wantErr: "at least one of the flags in the group [template manual-file] is required",
		},
		{
			name: "approve creates the connector and shows what is missing",
			args: []string{"requests", "approve", "r1", "--note", "ok", "--slug", "github", "--value", "ORG=acme", "--upstream-token", "ghp"},
			exchanges: []exchange{{method: "POST", path: "/requests/r1/approve",
				body:   `{"note":"ok","slug":"github","values":{"ORG":"acme"},"token":"ghp"}`,
				answer: `{"request":` + approvedRequest + `,"connector":` + githubConnector + `,"missing":["auth.token"]}`}},
			wantOut: []string{"status:     approved\n", "\nconnector:\nslug:", "missing: auth.token\n"},
		},
		{
			name: "reject sends the note",
			args: []string{"requests", "reject", "r1", "--note", "use the shared one", "--json"},
			exchanges: []exchange{{method: "POST", path: "/requests/r1/reject", body: `{"note":"use the shared one"}`,
				answer: `{"request":` + pendingRequest + `}`}},
			wantJSON: `{"request":` + pendingRequest + `}`,
		},
		{
			name: "reject of a decided request fails",
			args: []string{"requests", "reject", "r1", "--note", "no"},
			exchanges: []exchange{{method: "POST", path: "/requests/r1/reject", body: `{"note":"no"}`, status: 409,
				answer: `{"error":{"code":"not_pending","message":"request r1 was already approved by ada"}}`}},
			wantErr: "HTTP 409 not_pending: request r1 was already approved by ada",
		},
		{
			name:    "reject needs a note",
			args:    []string{"requests", "reject", "r1"},
			wantErr: `required flag(s) "note" not set`,
		},
	})
}

const aliceUser = `{"id":"alice","name":"Alice","email":"alice@example.com","created_at":"2026-11-01T10:00:00Z",
	"updated_at":"2026-11-01T10:00:00Z","version":3,"roles":["admin","auditor"]}`

func TestUsersCommands(t *testing.T) {
	runCases(t, []cliCase{
		{
			name: "list",
			args: []string{"users", "list"},
			exchanges: []exchange{{method: "GET", path: "/users", answer: `{"users":[` + aliceUser +
				`,{"id":"bob","disabled":true,"created_at":"2026-11-01T10:00:00Z","updated_at":"2026-11-01T10:00:00Z","version":1,"roles":[]}],"total":2,"next_cursor":""}`}},
			wantOut: []string{"ID     NAME   EMAIL              ROLES           DISABLED",
				"alice  Alice  alice@example.com  admin, auditor", "bob                              -               yes"},
		},
		{
			name:      "get",
			args:      []string{"users", "get", "alice"},
			exchanges: []exchange{{method: "GET", path: "/users/alice", answer: aliceUser}},
			wantOut:   []string{"id:      alice\n", "roles:   admin, auditor\n", "version: 3\n"},
		},
		{
			name: "create with roles",
			args: []string{"users", "create", "alice", "--name", "Alice", "--email", "alice@example.com", "--role", "admin", "--role", "auditor"},
			exchanges: []exchange{{method: "POST", path: "/users", status: 201,
				body: `{"id":"alice","name":"Alice","email":"alice@example.com","roles":["admin","auditor"]}`, answer: aliceUser}},
			wantOut: []string{"id:      alice\n"},
		},
		{
			name: "create leaves roles to the server's default",
			args: []string{"users", "create", "bob"},
			exchanges: []exchange{{method: "POST", path: "/users", status: 201, body: `{"id":"bob"}`,
				answer: `{"id":"bob","created_at":"2026-11-01T10:00:00Z","updated_at":"2026-11-01T10:00:00Z","version":1,"roles":["member"]}`}},
			wantOut: []string{"roles:   member\n"},
		},
		{
			name: "update replaces roles and disables",
			args: []string{"users", "update", "alice", "--role", "member,auditor", "--disable", "--if-match", "3"},
			exchanges: []exchange{{method: "PATCH", path: "/users/alice", ifMatch: `"3"`,
				body: `{"roles":["member","auditor"],"disabled":true}`, answer: aliceUser}},
			wantOut: []string{"id:      alice\n"},
		},
		{
			name:      "update enables and renames",
			args:      []string{"users", "update", "alice", "--enable", "--name", "Alice L."},
			exchanges: []exchange{{method: "PATCH", path: "/users/alice", body: `{"disabled":false,"name":"Alice L."}`, answer: aliceUser}},
		},
		{
			name:    "update refuses --disable with --enable",
			args:    []string{"users", "update", "alice", "--disable", "--enable"},
			wantErr: "if any flags in the group [disable enable] are set none of the others can be; [disable enable] were all set",
		},
		{
			name: "update of an unknown role fails with the API's error",
			args: []string{"users", "update", "alice", "--role", "root"},
			exchanges: []exchange{{method: "PATCH", path: "/users/alice", body: `{"roles":["root"]}`, status: 422,
				answer: `{"error":{"code":"invalid_field","message":"unknown role \"root\"; known roles: owner, admin, member, auditor","field":"roles"}}`}},
			wantErr: `HTTP 422 invalid_field: unknown role "root"; known roles: owner, admin, member, auditor (field roles)`,
		},
		{
			name:      "delete",
			args:      []string{"users", "delete", "bob"},
			exchanges: []exchange{{method: "DELETE", path: "/users/bob", status: 204}},
			wantOut:   []string{"user bob deleted"},
		},
		{
			name:      "whoami",
			args:      []string{"whoami"},
			exchanges: []exchange{{method: "GET", path: "/me", answer: `{"user":"ada","roles":["admin"],"token_id":"t1"}`}},
			wantOut:   []string{"user:     ada\n", "roles:    admin\n", "token id: t1\n"},
		},
		{
			name:      "whoami --json",
			args:      []string{"whoami", "--json"},
			exchanges: []exchange{{method: "GET", path: "/me", answer: `{"user":"ada","roles":["admin"],"token_id":"t1"}`}},
			wantJSON:  `{"user":"ada","roles":["admin"],"token_id":"t1"}`,
		},
	})
}

const tokenRecord = `{"id":"t1","user":"alice","name":"ci","prefix":"gth_AbCd","created_at":"2026-11-01T10:00:00Z",
	"expires_at":"2027-01-30T10:00:00Z","active":true}`

func TestTokensCommands(t *testing.T) {
	runCases(t, []cliCase{
		{
			name: "list everyone's tokens",
			args: []string{"tokens", "list", "--all-users"},
			exchanges: []exchange{{method: "GET", path: "/tokens", query: url.Values{"user": {"*"}},
				answer: `{"tokens":[` + tokenRecord + `],"total":1,"next_cursor":""}`}},
			wantOut: []string{"ID  USER   NAME  PREFIX    CREATED               EXPIRES               LAST USED  ACTIVE",
				"t1  alice  ci    gth_AbCd  2026-11-01T10:00:00Z  2027-01-30T10:00:00Z  never      yes"},
		},
		{
			name: "list one user's tokens",
			args: []string{"tokens", "list", "--user", "alice"},
			exchanges: []exchange{{method: "GET", path: "/tokens", query: url.Values{"user": {"alice"}},
				answer: `{"tokens":[],"total":0,"next_cursor":""}`}},
			wantOut: []string{"ID  USER"},
		},
		{
			name: "create prints the token alone on stdout and the notice on stderr",
			args: []string{"tokens", "create", "--name", "ci", "--user", "alice", "--expires", "90d"},
			exchanges: []exchange{{method: "POST", path: "/tokens", status: 201, body: `{"name":"ci","user":"alice","expires":"90d"}`,
				answer: `{"token":"gth_AbCdEfGh","notice":"store this token now: it is shown once and cannot be recovered","record":` + tokenRecord + `}`}},
			wantExactOut: "gth_AbCdEfGh\n",
			wantStderr:   []string{"store this token now: it is shown once", "id t1, user alice, expires 2027-01-30T10:00:00Z"},
		},
		{
			name: "create with an expiry the API refuses",
			args: []string{"tokens", "create", "--name", "ci", "--expires", "soon"},
			exchanges: []exchange{{method: "POST", path: "/tokens", body: `{"name":"ci","expires":"soon"}`, status: 422,
				answer: `{"error":{"code":"invalid_field","message":"expiry \"soon\" is neither a duration (720h, 30d) nor an RFC 3339 time","field":"expires"}}`}},
			wantErr: `HTTP 422 invalid_field: expiry "soon" is neither a duration (720h, 30d) nor an RFC 3339 time (field expires)`,
		},
		{
			name: "revoke",
			args: []string{"tokens", "revoke", "t1"},
			exchanges: []exchange{{method: "DELETE", path: "/tokens/t1",
				answer: strings.Replace(tokenRecord, `"active":true`, `"revoked_at":"2026-11-05T10:00:00Z","active":false`, 1)}},
			wantOut: []string{"revoked:   2026-11-05T10:00:00Z\n", "active:    no\n"},
		},
	})
}

const (
	auditEntry1 = `{"id":"e1","time":"2026-11-05T10:00:00Z","actor":"mia","action":"tool.call","connector":"github",
		"tool":"search_issues","outcome":"success","latency_ms":42.5}`
	auditEntry2 = `{"id":"e2","time":"2026-11-05T10:01:00Z","actor":"ada","action":"connector.update","target":"github",
		"connector":"github","outcome":"success","details":{"fields":["status"]}}`
)

func TestAuditAndAnalyticsCommands(t *testing.T) {
	// JSON Lines: one compact entry a line.
	jsonl := compactJSON(t, auditEntry1) + "\n" + compactJSON(t, auditEntry2) + "\n"
	filters := url.Values{"from": {"24h"}, "to": {"2026-11-06T00:00:00Z"}, "actor": {"mia"}, "connector": {"github"},
		"action": {"tool.call"}, "outcome": {"success"}}
	withPage := func(v url.Values, kv ...string) url.Values {
		out := url.Values{}
		for k, vs := range v {
			out[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	filterArgs := []string{"--from", "24h", "--to", "2026-11-06T00:00:00Z", "--actor", "mia", "--connector", "github",
		"--action", "tool.call", "--outcome", "success"}
	runCases(t, []cliCase{
		{
			name: "query sends the filters and --all follows next_cursor",
			args: append([]string{"audit", "query", "--limit", "1", "--all"}, filterArgs...),
			exchanges: []exchange{
				{method: "GET", path: "/audit", query: withPage(filters, "limit", "1"),
					answer: `{"entries":[` + auditEntry1 + `],"next_cursor":"e1"}`},
				{method: "GET", path: "/audit", query: withPage(filters, "limit", "1", "cursor", "e1"),
					answer: `{"entries":[` + auditEntry2 + `],"next_cursor":""}`},
			},
			wantOut: []string{
				"TIME                  ACTOR  ACTION            TARGET  TOOL           OUTCOME  LATENCY MS",
				"2026-11-05T10:00:00Z  mia    tool.call         github  search_issues  success  42.5",
				"2026-11-05T10:01:00Z  ada    connector.update  github                 success",
			},
		},
		{
			name: "query --json prints the page as is",
			args: []string{"audit", "query", "--json"},
			exchanges: []exchange{{method: "GET", path: "/audit",
				answer: `{"entries":[` + auditEntry1 + `],"next_cursor":"e1"}`}},
			wantJSON:   `{"entries":[` + auditEntry1 + `],"next_cursor":"e1"}`,
			wantStderr: nil,
		},
		{
			name: "query with a bad time fails with the API's error",
			args: []string{"audit", "query", "--from", "yesterday"},
			exchanges: []exchange{{method: "GET", path: "/audit", query: url.Values{"from": {"yesterday"}}, status: 400,
				answer: `{"error":{"code":"invalid_parameter","message":"from: \"yesterday\" is not an RFC 3339 time, a duration back from now (24h) or Unix seconds","field":"from"}}`}},
			wantErr: `HTTP 400 invalid_parameter: from: "yesterday" is not an RFC 3339 time, a duration back from now (24h) or Unix seconds (field from)`,
		},
		{
			name: "export streams the JSON Lines to stdout",
			args: append([]string{"audit", "export"}, filterArgs...),
			exchanges: []exchange{{method: "GET", path: "/audit/export", query: filters, contentType: "application/x-ndjson",
				answer: jsonl}},
			wantExactOut: jsonl,
		},
		{
			name: "export -o writes the file",
			args: []string{"audit", "export", "--from", "24h", "-o", "{dir}/audit.jsonl"},
			exchanges: []exchange{{method: "GET", path: "/audit/export", query: url.Values{"from": {"24h"}},
				contentType: "application/x-ndjson", answer: jsonl}},
			wantFiles:  map[string]string{"audit.jsonl": jsonl},
			wantStderr: []string{"exported 2 entries to "},
		},
		{
			name: "export refused writes no file",
			args: []string{"audit", "export", "-o", "{dir}/audit.jsonl"},
			exchanges: []exchange{{method: "GET", path: "/audit/export", status: 403,
				answer: `{"error":{"code":"forbidden","message":"your roles (member) do not allow read on audit"}}`}},
			wantErr: "HTTP 403 forbidden: your roles (member) do not allow read on audit",
		},
		{
			name: "analytics prints a row per connector and tool",
			args: []string{"analytics", "--from", "1h", "--connector", "github"},
			exchanges: []exchange{{method: "GET", path: "/analytics", query: url.Values{"from": {"1h"}, "connector": {"github"}},
				answer: `{"from":"2026-11-05T09:00:00Z","to":"2026-11-05T10:00:01Z",
				"total":{"calls":4,"errors":1,"denied":0,"error_rate":0.25,"latency_ms":{"p50":12,"p95":80.5,"p99":80.5,"max":80.5},"guard_verdicts":{}},
				"connectors":[{"connector":"github","calls":4,"errors":1,"denied":0,"error_rate":0.25,
				"latency_ms":{"p50":12,"p95":80.5,"p99":80.5,"max":80.5},"guard_verdicts":{},
				"tools":[{"tool":"search_issues","calls":3,"errors":0,"denied":0,"error_rate":0,"latency_ms":{"p50":10,"p95":12,"p99":12,"max":12},"guard_verdicts":{}},
				{"tool":"create_issue","calls":1,"errors":1,"denied":0,"error_rate":1,"latency_ms":{"p50":80.5,"p95":80.5,"p99":80.5,"max":80.5},"guard_verdicts":{}}]}]}`}},
			wantOut: []string{
				"from 2026-11-05T09:00:00Z to 2026-11-05T10:00:01Z\n",
				"CONNECTOR  TOOL           CALLS  ERRORS  DENIED  ERROR RATE  P50 MS  P95 MS  P99 MS",
				"github     *              4      1       0       25.00%      12.0    80.5    80.5",
				"github     search_issues  3      0       0       0.00%       10.0    12.0    12.0",
				"github     create_issue   1      1       0       100.00%     80.5    80.5    80.5",
				"TOTAL                     4      1       0       25.00%",
			},
		},
	})
	t.Run("a refused export leaves no file behind", func(t *testing.T) {
		tc := cliCase{args: []string{"audit", "export", "-o", "{dir}/audit.jsonl"},
			exchanges: []exchange{{method: "GET", path: "/audit/export", status: 403,
				answer: `{"error":{"code":"forbidden","message":"no"}}`}}}
		_, _, err, dir := runCLI(t, tc)
		entries, _ := os.ReadDir(dir)
		if err == nil || len(entries) != 0 {
			t.Errorf("err %v, files %v", err, entries)
		}
	})
}
