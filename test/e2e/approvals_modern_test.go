//go:build e2e

package e2e

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestApprovalsForModernClients: a 2026-07-28 client (the official Go SDK)
// under a require-approval rule is asked through an input_required
// elicitation, which the SDK answers and retries; declining denies.
func TestApprovalsForModernClients(t *testing.T) {
	g := startGateway(t, "")
	g.addConnector(everythingSTDIO("legacy"))
	g.putRule(t, "local-sum-approval", map[string]any{"subject": "user:local", "connector": "legacy", "kind": "tool", "name": "get-sum",
		"actions": []string{"call"}, "effect": "require-approval", "approver": "caller"})

	connect := func(t *testing.T, answer string, asked *atomic.Int32, message *atomic.Value) *mcp.ClientSession {
		t.Helper()
		client := mcp.NewClient(&mcp.Implementation{Name: "approvals-e2e", Version: "1"}, &mcp.ClientOptions{
			ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
				asked.Add(1)
				message.Store(req.Params.Message)
				if answer == "approve" {
					return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"approve": true}}, nil
				}
				return &mcp.ElicitResult{Action: "decline"}, nil
			},
		})
		sess, err := client.Connect(ctxFor(t), &mcp.StreamableClientTransport{Endpoint: g.mcpURL("legacy")}, &mcp.ClientSessionOptions{ProtocolVersion: "2026-07-28"})
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		t.Cleanup(func() { _ = sess.Close() })
		if v := sess.InitializeResult().ProtocolVersion; v != "2026-07-28" {
			t.Fatalf("negotiated %q, want 2026-07-28", v)
		}
		return sess
	}

	t.Run("approved through an input_required elicitation, the call runs", func(t *testing.T) {
		var asked atomic.Int32
		var message atomic.Value
		sess := connect(t, "approve", &asked, &message)
		res, err := sess.CallTool(ctxFor(t), &mcp.CallToolParams{Name: "get-sum", Arguments: map[string]any{"a": 30, "b": 12}})
		if err != nil || res.IsError || textOf(res) != "The sum of 30 and 12 is 42." {
			t.Fatalf("the approved call: %v %v", textOf(res), err)
		}
		if asked.Load() != 1 {
			t.Errorf("the elicitation handler ran %d times, want 1", asked.Load())
		}
		if m, _ := message.Load().(string); !strings.Contains(m, `"get-sum"`) || !strings.Contains(m, "local-sum-approval") {
			t.Errorf("the elicitation message %q", m)
		}
		var list struct {
			Approvals []approval `json:"approvals"`
		}
		g.admin("GET", "/approvals?status=approved", nil, &list)
		if len(list.Approvals) != 1 || list.Approvals[0].Via != "elicitation" || list.Approvals[0].DecidedBy != "local" {
			t.Errorf("approvals %+v", list.Approvals)
		}
	})
	t.Run("declined, the call is denied by policy", func(t *testing.T) {
		var asked atomic.Int32
		var message atomic.Value
		sess := connect(t, "decline", &asked, &message)
		_, err := sess.CallTool(ctxFor(t), &mcp.CallToolParams{Name: "get-sum", Arguments: map[string]any{"a": 1, "b": 2}})
		if err == nil || !strings.Contains(err.Error(), "denied by policy") || !strings.Contains(err.Error(), "local-sum-approval") {
			t.Fatalf("the declined call: %v", err)
		}
		if asked.Load() != 1 {
			t.Errorf("the elicitation handler ran %d times, want 1", asked.Load())
		}
	})
	t.Run("tools the rule does not hold run at once", func(t *testing.T) {
		var asked atomic.Int32
		var message atomic.Value
		sess := connect(t, "decline", &asked, &message)
		res, err := sess.CallTool(ctxFor(t), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "free"}})
		if err != nil || textOf(res) != "Echo: free" || asked.Load() != 0 {
			t.Errorf("echo: %q %v (asked %d)", textOf(res), err, asked.Load())
		}
	})
}

// TestApprovalsOnTheSessionlessPassthrough: a 2026-07-28 client reaching a
// 2026-07-28 upstream (no session anywhere) under require-approval rules:
// the gateway asks through its own input_required result, then relays the
// approved call, and the upstream's own input_required round trips of the
// approved call are not held again.
func TestApprovalsOnTheSessionlessPassthrough(t *testing.T) {
	g := startGateway(t, "")
	g.addConnector(map[string]any{"name": "modern", "slug": "modern", "transport": "streamable-http", "url": startStatelessEverything(t), "auth": map[string]any{"kind": "none"}})
	for _, tool := range []string{"test_simple_text", "test_input_required_result_elicitation"} {
		g.putRule(t, "hold-"+tool, map[string]any{"subject": "user:local", "connector": "modern", "kind": "tool", "name": tool,
			"actions": []string{"call"}, "effect": "require-approval", "approver": "caller"})
	}
	var gateway, upstream atomic.Int32
	approve := true
	client := mcp.NewClient(&mcp.Implementation{Name: "sessionless-approvals", Version: "1"}, &mcp.ClientOptions{
		ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			if strings.HasPrefix(req.Params.Message, "Gatehouse:") {
				gateway.Add(1)
				if !approve {
					return &mcp.ElicitResult{Action: "decline"}, nil
				}
				return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"approve": true}}, nil
			}
			upstream.Add(1)
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"name": "Ada"}}, nil
		},
	})
	sess, err := client.Connect(ctxFor(t), &mcp.StreamableClientTransport{Endpoint: g.mcpURL("modern")}, &mcp.ClientSessionOptions{ProtocolVersion: "2026-07-28"})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = sess.Close() })
	call := func(tool string) (string, error) {
		res, err := sess.CallTool(ctxFor(t), &mcp.CallToolParams{Name: tool})
		if err != nil {
			return "", err
		}
		return textOf(res), nil
	}

	t.Run("approved, the call runs upstream", func(t *testing.T) {
		got, err := call("test_simple_text")
		if err != nil || !strings.Contains(got, "simple text") || gateway.Load() != 1 {
			t.Fatalf("got %q %v (the gateway asked %d times)", got, err, gateway.Load())
		}
	})
	t.Run("the upstream's own input round trip is not held again", func(t *testing.T) {
		gateway.Store(0)
		got, err := call("test_input_required_result_elicitation")
		if err != nil || got != "Hello, Ada!" || gateway.Load() != 1 || upstream.Load() != 1 {
			t.Fatalf("got %q %v (the gateway asked %d times, the upstream %d)", got, err, gateway.Load(), upstream.Load())
		}
	})
	t.Run("declined, the call is denied by policy", func(t *testing.T) {
		approve = false
		_, err := call("test_simple_text")
		if err == nil || !strings.Contains(err.Error(), "denied by policy") || !strings.Contains(err.Error(), "hold-test_simple_text") {
			t.Fatalf("the declined call: %v", err)
		}
	})
	t.Run("the approvals are audited as decided by the caller", func(t *testing.T) {
		var list struct {
			Approvals []approval `json:"approvals"`
		}
		g.admin("GET", "/approvals", nil, &list)
		statuses := map[string]int{}
		for _, ap := range list.Approvals {
			if ap.Via != "elicitation" || ap.DecidedBy != "local" {
				t.Errorf("approval %+v", ap)
			}
			statuses[ap.Status]++
		}
		if statuses["approved"] != 2 || statuses["denied"] != 1 || len(list.Approvals) != 3 {
			t.Errorf("approvals %+v", list.Approvals)
		}
	})
}
