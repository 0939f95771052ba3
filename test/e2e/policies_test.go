//go:build e2e

package e2e

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// codePolicyDenied is the JSON-RPC error code of a policy denial.
const codePolicyDenied = -31058

// addMember creates user id with role and returns an API token for them
// (created by the admin on their behalf).
func (g *gateway) addMember(t *testing.T, id, role string) string {
	t.Helper()
	var u map[string]any
	if code := g.admin(http.MethodPost, "/users", map[string]any{"id": id, "name": id, "roles": []string{role}}, &u); code != http.StatusCreated {
		t.Fatalf("create user %s: HTTP %d %v", id, code, u)
	}
	var tok struct {
		Token string `json:"token"`
	}
	if code := g.admin(http.MethodPost, "/tokens", map[string]any{"name": "e2e", "user": id}, &tok); code != http.StatusCreated || !strings.HasPrefix(tok.Token, "gth_") {
		t.Fatalf("create a token for %s: HTTP %d %+v", id, code, tok)
	}
	return tok.Token
}

// putRule writes tool rule id and fails on an error or on warnings other
// than the ones expected (each a part of one warning, in order): an
// unexpected warning means a typo (an unknown connector or tool) or an
// unintended conflict.
func (g *gateway) putRule(t *testing.T, id string, rule map[string]any, wantWarnings ...string) {
	t.Helper()
	var out struct {
		Warnings []string `json:"warnings"`
	}
	if code := g.admin(http.MethodPut, "/policies/rules/"+id, rule, &out); code != http.StatusOK {
		t.Fatalf("put rule %s: HTTP %d %+v", id, code, out)
	}
	if len(out.Warnings) != len(wantWarnings) {
		t.Fatalf("put rule %s: warnings %q, want %q", id, out.Warnings, wantWarnings)
	}
	for i, w := range wantWarnings {
		if !strings.Contains(out.Warnings[i], w) {
			t.Errorf("put rule %s: warning %q lacks %q", id, out.Warnings[i], w)
		}
	}
}

// approval is an entry of GET /admin/v1/approvals.
type approval struct {
	ID        string          `json:"id"`
	User      string          `json:"user"`
	Connector string          `json:"connector"`
	Tool      string          `json:"tool"`
	Arguments json.RawMessage `json:"arguments"`
	Rule      string          `json:"rule"`
	Status    string          `json:"status"`
	DecidedBy string          `json:"decided_by"`
	Via       string          `json:"via"`
	Note      string          `json:"note"`
}

// pendingApproval polls the pending approvals until one of tool by user
// appears, and returns it.
func (g *gateway) pendingApproval(t *testing.T, user, tool string) approval {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last []approval
	for time.Now().Before(deadline) {
		var out struct {
			Approvals []approval `json:"approvals"`
		}
		if code := g.admin(http.MethodGet, "/approvals?status=pending", nil, &out); code != http.StatusOK {
			t.Fatalf("list pending approvals: HTTP %d", code)
		}
		last = out.Approvals
		for _, ap := range out.Approvals {
			if ap.User == user && ap.Tool == tool {
				return ap
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no pending approval of %s by %s appeared; pending: %+v", tool, user, last)
	return approval{}
}

// sameJSON reports whether two JSON texts hold equal values.
func sameJSON(a, b string) bool {
	var va, vb any
	return json.Unmarshal([]byte(a), &va) == nil && json.Unmarshal([]byte(b), &vb) == nil && reflect.DeepEqual(va, vb)
}

// errorData decodes the data of a policy denial.
func errorData(t *testing.T, e *rpcError) map[string]string {
	t.Helper()
	var d map[string]string
	if len(e.Data) > 0 && string(e.Data) != "null" {
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Errorf("error data %s: %v", e.Data, err)
		}
	}
	return d
}

// deniedByPolicy fails unless c is a policy denial whose message holds
// every one of want.
func deniedByPolicy(t *testing.T, what string, c callResult, want ...string) {
	t.Helper()
	if c.Error == nil || c.Error.Code != codePolicyDenied || !strings.HasPrefix(c.Error.Message, "denied by policy:") {
		t.Fatalf("%s: got %s, want error %d starting %q", what, c, codePolicyDenied, "denied by policy:")
	}
	t.Logf("%s: %s", what, c)
	for _, w := range want {
		if !strings.Contains(c.Error.Message, w) {
			t.Errorf("%s: the denial %q does not mention %q", what, c.Error.Message, w)
		}
	}
}

// TestPolicies drives tool policies with the official TypeScript SDK
// client, as members with their own API tokens, against server-everything
// over STDIO: listings narrowed per user, calls decided (conditions on
// the arguments, schema validation before the upstream), require-approval
// holds decided through the admin API or an elicitation, a policy change
// applied to an open session, and the denials in the audit log.
func TestPolicies(t *testing.T) {
	g := startGateway(t, "", "GATEHOUSE_CLIENT_AUTH=token")
	g.addConnector(everythingSTDIO("everything"))
	url := g.mcpURL("everything")
	tokens := map[string]string{}
	for user, role := range map[string]string{"alice": "member", "bob": "member", "carol": "member", "ada": "admin"} {
		tokens[user] = g.addMember(t, user, role)
	}
	tool := func(subject, name string, actions []string, effect string) map[string]any {
		return map[string]any{"subject": subject, "connector": "everything", "kind": "tool", "name": name, "actions": actions, "effect": effect}
	}
	g.putRule(t, "alice-tools", tool("user:alice", "*", []string{"list", "call"}, "allow"))
	g.putRule(t, "bob-list-echo", tool("user:bob", "echo", []string{"list"}, "allow"))
	bobEcho := tool("user:bob", "echo", []string{"call"}, "allow")
	bobEcho["condition"] = `args.message.startsWith("ok")`
	bobEcho["description"] = "bob echoes only ok-messages"
	g.putRule(t, "bob-call-echo", bobEcho)

	t.Run("members see only the tools their rules let them list", func(t *testing.T) {
		// ada (admin, allowed everything by the default policy) sees the
		// connector's whole listing, for a client of the same capabilities.
		ada := openTSSession(t, "ada", url, tokens["ada"], "none")
		all := ada.list(t, "tools")
		for _, want := range []string{"echo", "get-sum", "get-tiny-image"} {
			if !slices.Contains(all, want) {
				t.Fatalf("the admin's tools/list lacks %s: %v", want, all)
			}
		}
		alice := openTSSession(t, "alice", url, tokens["alice"], "none").list(t, "tools")
		bobS := openTSSession(t, "bob", url, tokens["bob"], "none")
		bob := bobS.list(t, "tools")
		t.Logf("admin lists %v\nalice lists %v\nbob lists %v", all, alice, bob)
		if !slices.Equal(bob, []string{"echo"}) {
			t.Errorf("bob lists %v, want exactly [echo]", bob)
		}
		// alice may list every tool: her listing is the admin's, exactly.
		if !slices.Equal(alice, all) {
			t.Errorf("alice lists %v, want the whole listing %v", alice, all)
		}
		var onlyAlice []string
		for _, name := range alice {
			if !slices.Contains(bob, name) {
				onlyAlice = append(onlyAlice, name)
			}
		}
		if len(onlyAlice) != len(alice)-1 || slices.Contains(onlyAlice, "echo") || !slices.Contains(onlyAlice, "get-sum") {
			t.Errorf("alice sees %v beyond bob's %v; want all but echo", onlyAlice, bob)
		}
		// The rules are on tools: prompts and resources stay hidden from
		// members, while the admin lists them.
		if p := ada.list(t, "prompts"); len(p) == 0 {
			t.Errorf("the admin lists no prompts")
		}
		if p := bobS.list(t, "prompts"); len(p) != 0 {
			t.Errorf("bob lists prompts %v; no rule lets him", p)
		}
		if r := bobS.list(t, "resources"); len(r) != 0 {
			t.Errorf("bob lists resources %v; no rule lets him", r)
		}
		// carol, whom no rule names, cannot even open a session: the
		// gateway starts no upstream for a caller granted nothing.
		_, ev := connectTS(t, "carol", url, tokens["carol"], "none")
		if ev.Event != "fatal" || ev.Error == nil || !strings.Contains(ev.Error.Message, `no rule lets you use connector "everything"`) {
			t.Errorf("carol connecting: %+v (error %+v), want a policy refusal", ev, ev.Error)
		}
		// On the aggregate endpoint she connects and finds nothing.
		agg := openTSSession(t, "carol", g.base+"/mcp", tokens["carol"], "none")
		if got := agg.list(t, "tools"); len(got) != 0 {
			t.Errorf("carol lists %v on /mcp, want nothing", got)
		}
	})

	t.Run("a condition on the arguments decides bob's calls", func(t *testing.T) {
		bob := openTSSession(t, "bob", url, tokens["bob"], "none")
		if c := bob.call(t, "echo", map[string]any{"message": "ok hello"}); c.Error != nil || c.IsError || c.Text != "Echo: ok hello" {
			t.Errorf("bob echoing %q: %s, want %q", "ok hello", c, "Echo: ok hello")
		}
		c := bob.call(t, "echo", map[string]any{"message": "nope"})
		deniedByPolicy(t, `bob echoing "nope"`, c, `args.message.startsWith("ok")`, "call echo on everything")
		t.Run("a tool no rule lets bob call is denied", func(t *testing.T) {
			c := bob.call(t, "get-sum", map[string]any{"a": 1, "b": 2})
			deniedByPolicy(t, "bob calling get-sum", c, "no rule allows you to call get-sum on everything")
		})
	})

	t.Run("arguments violating the tool's input schema are refused before the upstream", func(t *testing.T) {
		alice := openTSSession(t, "alice", url, tokens["alice"], "none")
		for _, tc := range []struct {
			name string
			args map[string]any
			want []string
		}{
			{"echo without its required message", map[string]any{}, []string{`tool "echo"`, "message"}},
			{"echo with a number for message", map[string]any{"message": 42}, []string{`tool "echo"`, "argument /message"}},
			{"get-sum with a string for a number", map[string]any{"a": "two", "b": 3}, []string{`tool "get-sum"`, "argument /a"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tool := strings.Fields(tc.name)[0]
				c := alice.call(t, tool, tc.args)
				// A tool execution error (SEP-1303), written by the gateway:
				// the upstream's own validation would word it otherwise.
				if c.Error != nil || !c.IsError || !strings.HasPrefix(c.Text, "invalid arguments for tool") || !strings.Contains(c.Text, "checked by the gateway") {
					t.Fatalf("got %s, want the gateway's tool error", c)
				}
				t.Logf("%s", c)
				for _, w := range tc.want {
					if !strings.Contains(c.Text, w) {
						t.Errorf("the tool error %q does not name %q", c.Text, w)
					}
				}
			})
		}
		if c := alice.call(t, "get-sum", map[string]any{"a": 2, "b": 40}); c.Error != nil || c.Text != "The sum of 2 and 40 is 42." {
			t.Errorf("valid arguments: %s", c)
		}
	})

	// The caller approves (through an elicitation) as well as an admin;
	// TestApprovalsAreNotSelfApproved covers the default approver, admin.
	aliceSum := tool("user:alice", "get-sum", []string{"call"}, "require-approval")
	aliceSum["approver"] = "caller"
	g.putRule(t, "alice-sum-approval", aliceSum,
		"conflicts with rule alice-tools (allow) for user:alice on [call] of everything/get-sum: require-approval wins, by rule alice-sum-approval")

	t.Run("a held call waits for an admin's decision", func(t *testing.T) {
		alice := openTSSession(t, "alice", url, tokens["alice"], "none")
		t.Run("approved, it runs upstream", func(t *testing.T) {
			pending := alice.startCall(t, "get-sum", map[string]any{"a": 2, "b": 3})
			ap := g.pendingApproval(t, "alice", "get-sum")
			if ap.Connector != "everything" || ap.Rule != "alice-sum-approval" || ap.Status != "pending" || !sameJSON(string(ap.Arguments), `{"a":2,"b":3}`) {
				t.Errorf("pending approval %+v", ap)
			}
			select {
			case r := <-pending:
				t.Fatalf("the held call ended before any decision: %+v", r)
			default:
			}
			var decided approval
			if code := g.admin(http.MethodPost, "/approvals/"+ap.ID+"/approve", map[string]any{"note": "fine"}, &decided); code != http.StatusOK || decided.Status != "approved" {
				t.Fatalf("approve %s: HTTP %d %+v", ap.ID, code, decided)
			}
			if c := alice.result(t, pending); c.Error != nil || c.IsError || c.Text != "The sum of 2 and 3 is 5." {
				t.Errorf("the approved call: %s", c)
			}
			var after approval
			g.admin(http.MethodGet, "/approvals/"+ap.ID, nil, &after)
			if after.Status != "approved" || after.Via != "admin-api" || after.DecidedBy == "" {
				t.Errorf("approval after the decision: %+v", after)
			}
		})
		t.Run("denied with a note, the caller gets the note", func(t *testing.T) {
			pending := alice.startCall(t, "get-sum", map[string]any{"a": 7, "b": 8})
			ap := g.pendingApproval(t, "alice", "get-sum")
			if !sameJSON(string(ap.Arguments), `{"a":7,"b":8}`) {
				t.Errorf("pending approval %+v", ap)
			}
			if code := g.admin(http.MethodPost, "/approvals/"+ap.ID+"/deny", map[string]any{"note": "not during the freeze"}, nil); code != http.StatusOK {
				t.Fatalf("deny %s: HTTP %d", ap.ID, code)
			}
			c := alice.result(t, pending)
			deniedByPolicy(t, "the denied call", c, "alice-sum-approval", "denied", "not during the freeze")
			if d := errorData(t, c.Error); d["approval"] != ap.ID || d["status"] != "denied" || d["rule"] != "alice-sum-approval" {
				t.Errorf("error data %v", d)
			}
			if code := g.admin(http.MethodPost, "/approvals/"+ap.ID+"/approve", nil, nil); code != http.StatusConflict {
				t.Errorf("approving a denied approval: HTTP %d, want 409", code)
			}
		})
	})

	t.Run("a held call its client gives up on is abandoned and cannot be approved", func(t *testing.T) {
		alice := openTSSession(t, "alice", url, tokens["alice"], "none")
		r := alice.wait(t, alice.send(t, map[string]any{"op": "call-tool", "tool": "get-sum", "args": map[string]any{"a": 11, "b": 12}, "timeout": 1500}))
		if r.Error == nil {
			t.Fatalf("the held call answered before any decision: %+v", r)
		}
		// The SDK's timeout sent notifications/cancelled: the approval ends.
		var abandoned approval
		deadline := time.Now().Add(replyWait)
		for abandoned.ID == "" && time.Now().Before(deadline) {
			var list struct {
				Approvals []approval `json:"approvals"`
			}
			g.admin(http.MethodGet, "/approvals?status=abandoned", nil, &list)
			for _, ap := range list.Approvals {
				if ap.User == "alice" && sameJSON(string(ap.Arguments), `{"a":11,"b":12}`) {
					abandoned = ap
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		if abandoned.ID == "" {
			t.Fatal("the approval of the cancelled call was never abandoned")
		}
		if code := g.admin(http.MethodPost, "/approvals/"+abandoned.ID+"/approve", nil, nil); code != http.StatusConflict {
			t.Errorf("approving an abandoned call: HTTP %d, want 409", code)
		}
	})

	t.Run("a held call is decided by the caller through an elicitation", func(t *testing.T) {
		apID := regexp.MustCompile(`apr_[0-9a-f]+`)
		t.Run("accepted, it runs without an admin", func(t *testing.T) {
			alice := openTSSession(t, "alice", url, tokens["alice"], "approve")
			if c := alice.call(t, "get-sum", map[string]any{"a": 4, "b": 5}); c.Error != nil || c.IsError || c.Text != "The sum of 4 and 5 is 9." {
				t.Fatalf("the call approved by elicitation: %s", c)
			}
			// The event precedes the answer on the script's stdout.
			var ev tsEvent
			select {
			case ev = <-alice.events:
			default:
				t.Fatal("the call completed without an elicitation request")
			}
			var params struct {
				Message         string `json:"message"`
				RequestedSchema struct {
					Properties map[string]struct {
						Type string `json:"type"`
					} `json:"properties"`
					Required []string `json:"required"`
				} `json:"requestedSchema"`
			}
			if err := json.Unmarshal(ev.Params, &params); err != nil || ev.Event != "elicitation" {
				t.Fatalf("event %s %s: %v", ev.Event, ev.Params, err)
			}
			if !strings.Contains(params.Message, `"get-sum"`) || !strings.Contains(params.Message, "alice-sum-approval") {
				t.Errorf("the elicitation message %q names neither the tool nor the rule", params.Message)
			}
			if params.RequestedSchema.Properties["approve"].Type != "boolean" || !slices.Equal(params.RequestedSchema.Required, []string{"approve"}) {
				t.Errorf("requestedSchema %s", ev.Params)
			}
			t.Logf("elicitation/create: %s", ev.Params)
			id := apID.FindString(params.Message)
			var ap approval
			if code := g.admin(http.MethodGet, "/approvals/"+id, nil, &ap); code != http.StatusOK || ap.Status != "approved" || ap.Via != "elicitation" || ap.DecidedBy != "alice" {
				t.Errorf("approval %q named in the message: HTTP %d %+v", id, code, ap)
			}
		})
		t.Run("declined, the call is denied", func(t *testing.T) {
			alice := openTSSession(t, "alice", url, tokens["alice"], "decline")
			c := alice.call(t, "get-sum", map[string]any{"a": 1, "b": 1})
			deniedByPolicy(t, "the call declined by elicitation", c, "alice-sum-approval", "denied")
			select {
			case ev := <-alice.events:
				if ev.Event != "elicitation" {
					t.Errorf("event %+v, want the elicitation", ev)
				}
			default:
				t.Error("the call was denied without an elicitation request")
			}
		})
	})

	t.Run("on the aggregate endpoint, the elicitation reaches the caller too", func(t *testing.T) {
		alice := openTSSession(t, "alice", g.base+"/mcp", tokens["alice"], "approve")
		if c := alice.call(t, "everything__get-sum", map[string]any{"a": 20, "b": 22}); c.Error != nil || c.IsError || c.Text != "The sum of 20 and 22 is 42." {
			t.Fatalf("the call approved by elicitation on /mcp: %s", c)
		}
		select {
		case ev := <-alice.events:
			if ev.Event != "elicitation" || !strings.Contains(string(ev.Params), "get-sum") {
				t.Errorf("event %s %s, want the approval's elicitation", ev.Event, ev.Params)
			}
		default:
			t.Error("the call completed without an elicitation request")
		}
	})

	t.Run("a policy change applies to a session already open", func(t *testing.T) {
		// One SDK client, one session throughout: session.mjs never
		// re-initializes, so a lost session would fail the calls (HTTP 404).
		bob := openTSSession(t, "bob", url, tokens["bob"], "none")
		if bob.ready.SessionID == nil || *bob.ready.SessionID == "" {
			t.Fatalf("the gateway gave bob's session no id")
		}
		if c := bob.call(t, "echo", map[string]any{"message": "ok before"}); c.Error != nil || c.Text != "Echo: ok before" {
			t.Fatalf("before the change: %s", c)
		}
		paused := tool("user:bob", "echo", []string{"list", "call"}, "deny")
		paused["description"] = "echo is paused for maintenance"
		g.putRule(t, "bob-echo-paused", paused,
			"conflicts with rule bob-call-echo (allow) for user:bob on [call] of everything/echo: deny wins, by rule bob-echo-paused",
			"conflicts with rule bob-list-echo (allow) for user:bob on [list] of everything/echo: deny wins, by rule bob-echo-paused")
		c := bob.call(t, "echo", map[string]any{"message": "ok during"})
		deniedByPolicy(t, "echo on the open session after the deny rule", c, "rule bob-echo-paused denies call echo", "echo is paused for maintenance")
		if d := errorData(t, c.Error); d["rule"] != "bob-echo-paused" {
			t.Errorf("error data %v, want rule bob-echo-paused", d)
		}
		if got := bob.list(t, "tools"); len(got) != 0 {
			t.Errorf("with echo paused bob lists %v on the same session", got)
		}
		if code := g.admin(http.MethodDelete, "/policies/rules/bob-echo-paused", nil, nil); code != http.StatusNoContent {
			t.Fatalf("delete the rule: HTTP %d", code)
		}
		if c := bob.call(t, "echo", map[string]any{"message": "ok after"}); c.Error != nil || c.Text != "Echo: ok after" {
			t.Errorf("after the rule is deleted: %s", c)
		}
		if got := bob.list(t, "tools"); !slices.Equal(got, []string{"echo"}) {
			t.Errorf("after the rule is deleted bob lists %v", got)
		}
	})

	t.Run("the audit log records the denials", func(t *testing.T) {
		type entry struct {
			Actor    string         `json:"actor"`
			Tool     string         `json:"tool"`
			Decision string         `json:"decision"`
			Outcome  string         `json:"outcome"`
			Error    string         `json:"error"`
			Details  map[string]any `json:"details"`
		}
		// Calls are written by a batching writer: poll until bob's three
		// allowed echoes, the last calls made, are in.
		var entries []entry
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			var out struct {
				Entries []entry `json:"entries"`
			}
			if code := g.admin(http.MethodGet, "/audit?action=tool.call&limit=1000", nil, &out); code != http.StatusOK {
				t.Fatalf("audit query: HTTP %d", code)
			}
			entries = out.Entries
			bobOK := 0
			for _, e := range entries {
				if e.Actor == "bob" && e.Outcome == "success" {
					bobOK++
				}
			}
			if bobOK >= 3 { // "ok hello", "ok before", "ok after"
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		find := func(what string, match func(e entry) bool) entry {
			t.Helper()
			for _, e := range entries {
				if match(e) {
					return e
				}
			}
			t.Errorf("no audit entry for %s among %d:", what, len(entries))
			for _, e := range entries {
				t.Logf("  %+v", e)
			}
			return entry{}
		}
		paused := find("the call the deny rule refused", func(e entry) bool { return e.Details["rule"] == "bob-echo-paused" })
		if paused.Actor != "bob" || paused.Tool != "echo" || paused.Decision != "deny" || paused.Outcome != "denied" || !strings.Contains(paused.Error, "denied by policy") {
			t.Errorf("deny rule entry %+v", paused)
		}
		cond := find("the call the condition refused", func(e entry) bool {
			return e.Actor == "bob" && strings.Contains(e.Error, `args.message.startsWith("ok")`)
		})
		if cond.Decision != "deny" || cond.Outcome != "denied" {
			t.Errorf("condition entry %+v", cond)
		}
		invalid := find("a call with invalid arguments", func(e entry) bool {
			return e.Actor == "alice" && strings.Contains(e.Error, "invalid arguments")
		})
		if invalid.Outcome != "error" || invalid.Decision != "allow" || invalid.Details["invalid_arguments"] != true {
			t.Errorf("invalid arguments entry %+v", invalid)
		}
		approved := find("the call approved by an admin", func(e entry) bool { return e.Actor == "alice" && e.Decision == "approved" })
		if approved.Tool != "get-sum" || approved.Outcome != "success" || approved.Details["approval"] == nil {
			t.Errorf("approved entry %+v", approved)
		}
	})
}
