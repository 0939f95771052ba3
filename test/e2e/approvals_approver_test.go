//go:build e2e

package e2e

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestApprovalsAreNotSelfApproved: under a require-approval rule with the
// default approver (admin), an agent whose client answers every
// elicitation with "approve" — itself an admin — does not get its call
// run: the gateway does not ask it, and the call waits until an approver
// other than the caller decides through the admin API; the audit entry of
// the call names that approver. For both eras, and for the sessionless
// passthrough.
func TestApprovalsAreNotSelfApproved(t *testing.T) {
	g := startGateway(t, "")
	g.addConnector(everythingSTDIO("legacy"))
	g.addConnector(map[string]any{"name": "modern", "slug": "modern", "transport": "streamable-http", "url": startStatelessEverything(t), "auth": map[string]any{"kind": "none"}})
	for _, slug := range []string{"legacy", "modern"} {
		g.putRule(t, "hold-"+slug, map[string]any{"subject": "user:local", "connector": slug, "kind": "tool", "name": "*",
			"actions": []string{"call"}, "effect": "require-approval"})
	}
	var rules struct {
		Rules []struct {
			ID       string `json:"id"`
			Approver string `json:"approver"`
		} `json:"rules"`
	}
	g.admin(http.MethodGet, "/policies/rules", nil, &rules)
	for _, r := range rules.Rules {
		if strings.HasPrefix(r.ID, "hold-") && r.Approver != "admin" {
			t.Fatalf("new require-approval rule %s: approver %q, want admin", r.ID, r.Approver)
		}
	}

	tests := []struct {
		name, slug, era, tool string
		args                  map[string]any
		want                  string // in the approved call's text
	}{
		{"a 2025-11-25 session", "legacy", "2025-11-25", "get-sum", map[string]any{"a": 40, "b": 2}, "The sum of 40 and 2 is 42."},
		{"a 2026-07-28 client of a STDIO connector", "legacy", "2026-07-28", "get-sum", map[string]any{"a": 30, "b": 12}, "The sum of 30 and 12 is 42."},
		{"the sessionless passthrough", "modern", "2026-07-28", "test_simple_text", nil, "simple text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var asked atomic.Int32
			client := mcp.NewClient(&mcp.Implementation{Name: "self-approver", Version: "1"}, &mcp.ClientOptions{
				// The agent approves whatever it is asked.
				ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
					asked.Add(1)
					return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"approve": true}}, nil
				},
			})
			sess, err := client.Connect(ctxFor(t), &mcp.StreamableClientTransport{Endpoint: g.mcpURL(tc.slug)}, &mcp.ClientSessionOptions{ProtocolVersion: tc.era})
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			t.Cleanup(func() { _ = sess.Close() })
			call := func(args map[string]any) <-chan toolAnswer {
				done := make(chan toolAnswer, 1)
				go func() {
					res, err := sess.CallTool(ctxFor(t), &mcp.CallToolParams{Name: tc.tool, Arguments: args})
					done <- toolAnswer{res, err}
				}()
				return done
			}

			t.Run("the caller's own answer does not approve; an admin's does", func(t *testing.T) {
				pending := call(tc.args)
				ap := g.pendingApproval(t, "local", tc.tool)
				var full struct {
					Approver string `json:"approver"`
					ArgsHash string `json:"args_hash"`
				}
				g.admin(http.MethodGet, "/approvals/"+ap.ID, nil, &full)
				if full.Approver != "admin" || len(full.ArgsHash) != 64 {
					t.Errorf("approval %s: approver %q, args_hash %q", ap.ID, full.Approver, full.ArgsHash)
				}
				// Still pending once the admin decides: the agent's client,
				// which approves anything, did not decide it.
				var decided approval
				if code := g.admin(http.MethodPost, "/approvals/"+ap.ID+"/approve", map[string]any{"note": "checked"}, &decided); code != http.StatusOK {
					t.Fatalf("an admin approves %s: HTTP %d %+v (the caller's client decided it?)", ap.ID, code, decided)
				}
				if decided.DecidedBy == "local" || decided.Via != "admin-api" {
					t.Errorf("decided %+v", decided)
				}
				a := <-pending
				if a.err != nil || a.res.IsError || !strings.Contains(textOf(a.res), tc.want) {
					t.Fatalf("the approved call: %v %v", a.res, a.err)
				}
				if asked.Load() != 0 {
					t.Errorf("the gateway asked the caller %d times for an approval it may not give", asked.Load())
				}
				e := g.callEntryOf(t, ap.ID)
				if e.Actor != "local" || e.Decision != "approved" || e.Outcome != "success" || e.Details["approved_by"] != decided.DecidedBy || e.Details["approved_via"] != "admin-api" {
					t.Errorf("audit entry of the approved call %+v, want approved_by %s via admin-api", e, decided.DecidedBy)
				}
			})
			t.Run("denied by an admin, the call is denied", func(t *testing.T) {
				pending := call(tc.args)
				ap := g.pendingApproval(t, "local", tc.tool)
				if code := g.admin(http.MethodPost, "/approvals/"+ap.ID+"/deny", map[string]any{"note": "no"}, nil); code != http.StatusOK {
					t.Fatalf("deny %s: HTTP %d", ap.ID, code)
				}
				if a := <-pending; a.err == nil || !strings.Contains(a.err.Error(), "denied by policy") {
					t.Fatalf("the denied call: %v %v", a.res, a.err)
				}
				e := g.callEntryOf(t, ap.ID)
				if e.Outcome != "denied" || e.Details["decided_by"] == nil || e.Details["decided_via"] != "admin-api" {
					t.Errorf("audit entry of the denied call %+v", e)
				}
			})
		})
	}
}

// toolAnswer is the end of a CallTool.
type toolAnswer struct {
	res *mcp.CallToolResult
	err error
}

// auditEntry is an entry of GET /admin/v1/audit.
type auditEntry struct {
	Actor    string         `json:"actor"`
	Action   string         `json:"action"`
	Tool     string         `json:"tool"`
	Decision string         `json:"decision"`
	Outcome  string         `json:"outcome"`
	Error    string         `json:"error"`
	Details  map[string]any `json:"details"`
}

// callEntryOf polls the audit log for the tool.call entry of the call
// that passed or failed approval id.
func (g *gateway) callEntryOf(t *testing.T, id string) auditEntry {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var out struct {
			Entries []auditEntry `json:"entries"`
		}
		if code := g.admin(http.MethodGet, "/audit?action=tool.call&limit=1000", nil, &out); code != http.StatusOK {
			t.Fatalf("audit query: HTTP %d", code)
		}
		for _, e := range out.Entries {
			if e.Details["approval"] == id {
				return e
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no tool.call entry names approval %s", id)
	return auditEntry{}
}
