package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
)

// The CLI tests run the cobra commands against a fake gateway that checks
// every request it receives against the case's expected exchanges and
// answers with canned bodies shaped like the admin API's.

const testToken = "test-token-0123456789"

// exchange is one request the fake gateway expects, and its answer.
type exchange struct {
	method, path string
	// query must match exactly; nil means no query.
	query url.Values
	// ifMatch is the expected If-Match header ("" means absent).
	ifMatch string
	// body is compared as JSON; rawBody byte for byte; both empty means
	// the request has no body.
	body, rawBody string
	// status defaults to 200.
	status int
	answer string
	// contentType of the answer; defaults to application/json.
	contentType string
}

// cliCase is one CLI invocation and what it must produce.
type cliCase struct {
	name string
	args []string
	// files are written to a temporary directory; "{dir}" in args is
	// replaced with its path.
	files     map[string]string
	exchanges []exchange
	// wantOut are substrings of stdout; wantJSON, when set, is the JSON
	// stdout must hold exactly (once indented); wantExactOut is all of
	// stdout.
	wantOut      []string
	wantJSON     string
	wantExactOut string
	wantStderr   []string
	// wantErr is the error message the command must fail with.
	wantErr string
	// wantFiles are files in the temporary directory and their content.
	wantFiles map[string]string
	// stdin is the command's standard input.
	stdin string
}

// fakeGateway serves the exchanges in order.
type fakeGateway struct {
	t         *testing.T
	mu        sync.Mutex
	exchanges []exchange
	served    int
}

func (g *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	i := g.served
	g.served++
	g.mu.Unlock()
	t := g.t
	if i >= len(g.exchanges) {
		t.Errorf("unexpected request %d: %s %s", i+1, r.Method, r.URL)
		http.Error(w, "unexpected request", http.StatusInternalServerError)
		return
	}
	x := g.exchanges[i]
	if r.Method != x.method || r.URL.Path != "/admin/v1"+x.path {
		t.Errorf("request %d: got %s %s, want %s /admin/v1%s", i+1, r.Method, r.URL.Path, x.method, x.path)
	}
	wantQuery := x.query
	if wantQuery == nil {
		wantQuery = url.Values{}
	}
	if got := r.URL.Query(); !reflect.DeepEqual(got, wantQuery) {
		t.Errorf("request %d: query %v, want %v", i+1, got, wantQuery)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
		t.Errorf("request %d: Authorization %q, want the test token", i+1, got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("request %d: Content-Type %q", i+1, got)
	}
	if got := r.Header.Get("If-Match"); got != x.ifMatch {
		t.Errorf("request %d: If-Match %q, want %q", i+1, got, x.ifMatch)
	}
	body, _ := io.ReadAll(r.Body)
	switch {
	case x.rawBody != "":
		if string(body) != x.rawBody {
			t.Errorf("request %d: body %q, want exactly %q", i+1, body, x.rawBody)
		}
	case x.body != "":
		if !sameJSON(body, []byte(x.body)) {
			t.Errorf("request %d: body %s, want %s", i+1, body, x.body)
		}
	case len(body) > 0:
		t.Errorf("request %d: unexpected body %s", i+1, body)
	}
	ct := x.contentType
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	status := x.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	io.WriteString(w, x.answer)
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// compactJSON removes the insignificant spaces of s.
func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// newTestRoot is the CLI as main builds it, with env standing in for the
// process environment.
func newTestRoot(env map[string]string) *cobra.Command {
	root := &cobra.Command{Use: "gatehouse", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(newAdminCommands(func(k string) string { return env[k] })...)
	return root
}

// runCLI runs args against a fake gateway serving exchanges.
func runCLI(t *testing.T, tc cliCase) (stdout, stderr string, err error, dir string) {
	t.Helper()
	g := &fakeGateway{t: t, exchanges: tc.exchanges}
	srv := httptest.NewServer(g)
	defer srv.Close()
	dir = t.TempDir()
	for name, content := range tc.files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	args := make([]string, len(tc.args))
	for i, a := range tc.args {
		args[i] = strings.ReplaceAll(a, "{dir}", dir)
	}
	root := newTestRoot(map[string]string{"GATEHOUSE_URL": srv.URL, "GATEHOUSE_TOKEN": testToken})
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(tc.stdin))
	root.SetArgs(args)
	err = root.Execute()
	if g.served != len(tc.exchanges) {
		t.Errorf("the gateway served %d requests, want %d", g.served, len(tc.exchanges))
	}
	return out.String(), errOut.String(), err, dir
}

// check runs a case and checks its output.
func (tc cliCase) check(t *testing.T) {
	t.Helper()
	out, errOut, err, dir := runCLI(t, tc)
	switch {
	case tc.wantErr == "" && err != nil:
		t.Fatalf("error %v\nstdout:\n%s", err, out)
	case tc.wantErr != "" && err == nil:
		t.Fatalf("no error, want %q\nstdout:\n%s", tc.wantErr, out)
	case tc.wantErr != "" && err.Error() != tc.wantErr:
		t.Fatalf("error %q, want %q", err.Error(), tc.wantErr)
	}
	for _, want := range tc.wantOut {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	for _, want := range tc.wantStderr {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if tc.wantJSON != "" {
		var want bytes.Buffer
		if err := json.Indent(&want, []byte(tc.wantJSON), "", "  "); err != nil {
			t.Fatal(err)
		}
		want.WriteByte('\n')
		if out != want.String() {
			t.Errorf("stdout:\n%s\nwant the JSON:\n%s", out, want.String())
		}
	}
	if tc.wantExactOut != "" && out != tc.wantExactOut {
		t.Errorf("stdout %q, want %q", out, tc.wantExactOut)
	}
	for name, want := range tc.wantFiles {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("file %s: %q (%v), want %q", name, got, err, want)
		}
	}
	if strings.Contains(out+errOut, testToken) {
		t.Errorf("the admin token was printed")
	}
}

func runCases(t *testing.T, cases []cliCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, tc.check)
	}
}

// Canned answers, shaped like the admin API's.
const (
	githubConnector = `{"id":"c1","slug":"github","name":"GitHub","transport":"streamable-http",
		"url":"https://api.githubcopilot.com/mcp/","auth":{"kind":"oauth2"},"hosting":"hosted","template":"github",
		"status":"active","owner":"ada","advanced":{},"created_at":"2026-11-01T10:00:00Z",
		"updated_at":"2026-11-02T10:00:00Z","version":7}`
	filesConnector = `{"id":"c2","slug":"files","name":"Filesystem","transport":"stdio","command":"npx",
		"args":["-y","@modelcontextprotocol/server-filesystem","/srv"],"env":{"ROOT":"[redacted]"},"auth":{"kind":"none"},
		"hosting":"local","status":"draft","owner":"ada","advanced":{},"created_at":"2026-11-01T10:00:00Z",
		"updated_at":"2026-11-01T10:00:00Z","version":1}`
	stripeConnector = `{"id":"c3","slug":"stripe","name":"Stripe","transport":"streamable-http","url":"https://mcp.stripe.com",
		"auth":{"kind":"bearer"},"hosting":"hosted","template":"stripe","status":"disabled","owner":"ada","advanced":{},
		"created_at":"2026-11-01T10:00:00Z","updated_at":"2026-11-01T10:00:00Z","version":1}`
	notFound = `{"error":{"code":"not_found","message":"connector \"nope\" not found"}}`
)

func TestConnectorsCommands(t *testing.T) {
	runCases(t, []cliCase{
		{
			name: "list sends the filters and prints a table",
			args: []string{"connectors", "list", "--query", "git", "--status", "active", "--transport", "stdio", "--hosting", "local"},
			exchanges: []exchange{{method: "GET", path: "/connectors",
				query:  url.Values{"query": {"git"}, "status": {"active"}, "transport": {"stdio"}, "hosting": {"local"}},
				answer: `{"connectors":[` + githubConnector + `,` + filesConnector + `],"total":2,"next_cursor":""}`}},
			wantOut: []string{
				"SLUG    NAME        STATUS  TRANSPORT        HOSTING  TARGET",
				"github  GitHub      active  streamable-http  hosted   https://api.githubcopilot.com/mcp/",
				"files   Filesystem  draft   stdio            local    npx -y @modelcontextprotocol/server-filesystem /srv",
			},
		},
		{
			name: "list --all follows next_cursor through every page",
			args: []string{"connectors", "list", "--all-pages", "--limit", "1"},
			exchanges: []exchange{
				{method: "GET", path: "/connectors", query: url.Values{"limit": {"1"}},
					answer: `{"connectors":[` + filesConnector + `],"total":3,"next_cursor":"files"}`},
				{method: "GET", path: "/connectors", query: url.Values{"limit": {"1"}, "cursor": {"files"}},
					answer: `{"connectors":[` + githubConnector + `],"total":3,"next_cursor":"github"}`},
				{method: "GET", path: "/connectors", query: url.Values{"limit": {"1"}, "cursor": {"github"}},
					answer: `{"connectors":[` + stripeConnector + `],"total":3,"next_cursor":""}`},
			},
			wantOut: []string{"files ", "github ", "stripe "},
		},
		{
			name: "list --all --json prints one answer with every page's items",
			args: []string{"connectors", "list", "--all", "--json"},
			exchanges: []exchange{
				{method: "GET", path: "/connectors", answer: `{"connectors":[` + filesConnector + `],"total":2,"next_cursor":"files"}`},
				{method: "GET", path: "/connectors", query: url.Values{"cursor": {"files"}},
					answer: `{"connectors":[` + githubConnector + `],"total":2,"next_cursor":""}`},
			},
			wantJSON: `{"connectors":[` + filesConnector + `,` + githubConnector + `],"next_cursor":"","total":2}`,
		},
		{
			name: "list without --all says where the next page starts",
			args: []string{"connectors", "list"},
			exchanges: []exchange{{method: "GET", path: "/connectors",
				answer: `{"connectors":[` + filesConnector + `],"total":2,"next_cursor":"files"}`}},
			wantOut:    []string{"files"},
			wantStderr: []string{"more connectors: --cursor files, or --all-pages"},
		},
		{
			name:      "get prints key: value lines",
			args:      []string{"connectors", "get", "github"},
			exchanges: []exchange{{method: "GET", path: "/connectors/github", answer: githubConnector}},
			wantOut: []string{"slug:      github\n", "status:    active\n", "url:       https://api.githubcopilot.com/mcp/\n",
				"auth:      oauth2\n", "version:   7\n"},
		},
		{
			name:      "get --json prints the answer as is, indented",
			args:      []string{"connectors", "get", "github", "--json"},
			exchanges: []exchange{{method: "GET", path: "/connectors/github", answer: githubConnector}},
			wantJSON:  githubConnector,
		},
		{
			name:      "get of an unknown connector fails with the API's error",
			args:      []string{"connectors", "get", "nope"},
			exchanges: []exchange{{method: "GET", path: "/connectors/nope", status: 404, answer: notFound}},
			wantErr:   `HTTP 404 not_found: connector "nope" not found`,
		},
		{
			name: "create from flags builds the connector",
			args: []string{"connectors", "create", "--name", "Files", "--transport", "stdio", "--command", "npx",
				"--arg", "-y", "--arg", "server-files", "--env", "ROOT=/srv", "--env", "MODE=ro", "--status", "draft"},
			exchanges: []exchange{{method: "POST", path: "/connectors", status: 201, answer: filesConnector,
				body: `{"name":"Files","transport":"stdio","command":"npx","args":["-y","server-files"],"env":{"ROOT":"/srv","MODE":"ro"},"status":"draft"}`}},
			wantOut: []string{"slug:      files\n", "env:       ROOT=[redacted]\n"},
		},
		{
			name: "create from flags sends headers, and a token implies bearer auth",
			args: []string{"connectors", "create", "--name", "Stripe", "--slug", "stripe", "--url", "https://mcp.stripe.com",
				"--header", "X-Account={ACCOUNT}", "--auth-token", "sk_test"},
			exchanges: []exchange{{method: "POST", path: "/connectors", status: 201, answer: stripeConnector,
				body: `{"name":"Stripe","slug":"stripe","url":"https://mcp.stripe.com","headers":{"X-Account":"{ACCOUNT}"},"auth":{"kind":"bearer","token":"sk_test"}}`}},
			wantOut: []string{"slug:      stripe"},
		},
		{
			name:  "create --file sends the file as given",
			args:  []string{"connectors", "create", "--file", "{dir}/c.json"},
			files: map[string]string{"c.json": "{\"name\": \"GitHub\",\n \"url\": \"https://api.githubcopilot.com/mcp/\", \"colour\": 1}\n"},
			exchanges: []exchange{{method: "POST", path: "/connectors", status: 400,
				rawBody: "{\"name\": \"GitHub\",\n \"url\": \"https://api.githubcopilot.com/mcp/\", \"colour\": 1}\n",
				answer:  `{"error":{"code":"invalid_json","message":"invalid JSON: unknown field \"colour\"","field":"colour"}}`}},
			wantErr: `HTTP 400 invalid_json: invalid JSON: unknown field "colour" (field colour)`,
		},
		{
			name:    "create refuses --file together with flags",
			args:    []string{"connectors", "create", "--file", "{dir}/c.json", "--name", "x"},
			files:   map[string]string{"c.json": `{}`},
			wantErr: "give either --file or the connector flags, not both",
		},
		{
			name: "update sends only the flags given, with If-Match",
			args: []string{"connectors", "update", "github", "--status", "disabled", "--description", "", "--if-match", "7"},
			exchanges: []exchange{{method: "PATCH", path: "/connectors/github", ifMatch: `"7"`,
				body: `{"status":"disabled","description":""}`, answer: githubConnector}},
			wantOut: []string{"slug:      github"},
		},
		{
			name:  "update --file sends the patch as given",
			args:  []string{"connectors", "update", "github", "-f", "{dir}/p.json", "--json"},
			files: map[string]string{"p.json": `{"auth":{"kind":"bearer","token":"t"}}`},
			exchanges: []exchange{{method: "PATCH", path: "/connectors/github",
				rawBody: `{"auth":{"kind":"bearer","token":"t"}}`, answer: githubConnector}},
			wantJSON: githubConnector,
		},
		{
			name: "update answers a stale version with the API's error",
			args: []string{"connectors", "update", "github", "--name", "GH", "--if-match", "6"},
			exchanges: []exchange{{method: "PATCH", path: "/connectors/github", ifMatch: `"6"`, body: `{"name":"GH"}`, status: 412,
				answer: `{"error":{"code":"version_mismatch","message":"the connector changed since you read it; GET it again and retry","field":"version"}}`}},
			wantErr: "HTTP 412 version_mismatch: the connector changed since you read it; GET it again and retry (field version)",
		},
		{
			name:    "update with nothing to change sends nothing",
			args:    []string{"connectors", "update", "github"},
			wantErr: "nothing to change: give --file, --status, --description or --name",
		},
		{
			name:      "delete",
			args:      []string{"connectors", "delete", "github"},
			exchanges: []exchange{{method: "DELETE", path: "/connectors/github", status: 204}},
			wantOut:   []string{"connector github deleted"},
		},
		{
			name: "setup prints the URLs and the snippets",
			args: []string{"connectors", "setup", "github"},
			exchanges: []exchange{{method: "GET", path: "/connectors/github/setup", answer: `{"connector":"github",
				"url":"https://gw.example.com/mcp/github","sse_url":"https://gw.example.com/sse/github",
				"claude_desktop":{"mcpServers":{"github":{"command":"npx","args":["-y","mcp-remote","https://gw.example.com/mcp/github"]}}},
				"cursor":{"mcpServers":{"github":{"url":"https://gw.example.com/mcp/github","headers":{"Authorization":"Bearer \u003cyour Gatehouse token\u003e"}}}},
				"vscode":{"servers":{"github":{"type":"http","url":"https://gw.example.com/mcp/github"}}},
				"notes":["Create a token with POST /admin/v1/tokens (or ` + "`gatehouse tokens create`" + `); it is shown once."]}`}},
			wantOut: []string{
				"url:       https://gw.example.com/mcp/github\n", "sse url:   https://gw.example.com/sse/github\n",
				"Claude Desktop (claude_desktop_config.json):\n{\n", "Cursor (~/.cursor/mcp.json):",
				`"Authorization": "Bearer <your Gatehouse token>"`, "VS Code (.vscode/mcp.json):",
				"Notes:\n- Create a token",
			},
		},
		{
			name: "credentials stores the caller's placeholder values",
			args: []string{"connectors", "credentials", "stripe", "--value", "ACCOUNT=acct_1", "--value", "KEY=a=b"},
			exchanges: []exchange{{method: "PUT", path: "/connectors/stripe/credentials", status: 204,
				body: `{"values":{"ACCOUNT":"acct_1","KEY":"a=b"}}`}},
			wantOut: []string{"stored your values for stripe: ACCOUNT, KEY"},
		},
		{
			name:    "credentials refuses a value without =",
			args:    []string{"connectors", "credentials", "stripe", "--value", "ACCOUNT"},
			wantErr: `--value "ACCOUNT": want KEY=VALUE`,
		},
	})
}

func TestConnectionSettings(t *testing.T) {
	t.Run("--server and --token override the environment", func(t *testing.T) {
		g := &fakeGateway{t: t, exchanges: []exchange{{method: "GET", path: "/me", answer: `{"user":"ada","roles":[],"token_id":""}`}}}
		srv := httptest.NewServer(g)
		defer srv.Close()
		root := newTestRoot(map[string]string{"GATEHOUSE_URL": "http://127.0.0.1:1", "GATEHOUSE_TOKEN": "wrong-token"})
		root.SetOut(io.Discard)
		root.SetArgs([]string{"whoami", "--server", srv.URL + "/", "--token", testToken})
		if err := root.Execute(); err != nil || g.served != 1 {
			t.Errorf("err %v, served %d", err, g.served)
		}
	})
	t.Run("help never shows the token from the environment", func(t *testing.T) {
		root := newTestRoot(map[string]string{"GATEHOUSE_TOKEN": "secret-from-env"})
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs([]string{"connectors", "list", "--help"})
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "secret-from-env") || !strings.Contains(out.String(), "--token") {
			t.Errorf("help:\n%s", out.String())
		}
	})
	t.Run("the server defaults to GATEHOUSE_URL, then the local gateway", func(t *testing.T) {
		for env, want := range map[string]string{"": defaultServer, "https://gw.example.com": "https://gw.example.com"} {
			root := newTestRoot(map[string]string{"GATEHOUSE_URL": env})
			cmd, _, err := root.Find([]string{"users", "list"})
			if err != nil {
				t.Fatal(err)
			}
			if got := cmd.InheritedFlags().Lookup("server").DefValue; got != want {
				t.Errorf("GATEHOUSE_URL %q: default %q, want %q", env, got, want)
			}
		}
	})
	t.Run("a server that is not an http URL is refused", func(t *testing.T) {
		root := newTestRoot(nil)
		root.SetArgs([]string{"whoami", "--server", "gatehouse.example.com"})
		if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "is not an http(s) URL") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("an answer that is not the API's error keeps its status", func(t *testing.T) {
		tc := cliCase{args: []string{"whoami"}, exchanges: []exchange{{method: "GET", path: "/me", status: 502,
			contentType: "text/plain", answer: "bad gateway\n"}}}
		_, _, err, _ := runCLI(t, tc)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Status != 502 || err.Error() != "HTTP 502 unexpected_answer: bad gateway" {
			t.Errorf("err %v", err)
		}
	})
	t.Run("main registers every admin command group", func(t *testing.T) {
		root := newRootCommand()
		for _, name := range []string{"connectors", "catalog", "requests", "users", "whoami", "tokens", "audit", "analytics",
			"policies", "approvals", "redirects", "groups", "roles", "serve"} {
			if cmd, _, err := root.Find([]string{name}); err != nil || cmd.Name() != name {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
}
