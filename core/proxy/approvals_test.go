package proxy

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/access"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// indexDecider decides with a rule index; a user's subjects are the user
// and the roles given.
type indexDecider struct{ idx *policy.Index }

func (d indexDecider) subjects(user string, roles []string) []string {
	out := []string{"user:" + user}
	for _, r := range roles {
		out = append(out, "role:"+r)
	}
	return out
}

func (d indexDecider) DecideAs(user string, roles []string, req policy.Request) policy.Decision {
	req.Subjects = d.subjects(user, roles)
	return d.idx.Decide(req)
}

func (d indexDecider) Grants(user string, roles []string, slug string) bool {
	return d.idx.Grants(d.subjects(user, roles), slug)
}

// TestHeldCallsOnALegacySession: on a session whose client declared
// elicitation, a call held by a rule with approver admin is not offered
// to the caller, and an approval answer the client sends anyway (a forged
// elicitation response) decides nothing; an admin's decision through the
// registry lets it run, and the call record names the admin. With
// approver caller the caller is asked and its answer decides.
func TestHeldCallsOnALegacySession(t *testing.T) {
	tests := []struct {
		name          string
		approver      string
		wantAsked     bool
		wantBy, wantV string
	}{
		{"approver admin: the caller is not asked and cannot approve", policy.ApproverAdmin, false, "ada", "admin-api"},
		{"approver caller: the caller is asked and approves", policy.ApproverCaller, true, "ann", "elicitation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			up := newRecordingUpstream(t)
			c := &connector.Connector{Name: "db", Slug: "db", URL: up.URL, Status: connector.StatusActive, Auth: connector.Auth{Kind: connector.AuthNone}}
			c.Normalize()
			cs, _ := policy.NewConditions()
			idx, err := policy.NewIndex(cs, []policy.Rule{
				{ID: "hold", Subject: "user:ann", Connector: "db", Kind: policy.KindTool, Name: "drop", Actions: []string{policy.ActCall}, Effect: policy.EffectRequireApproval, Approver: tc.approver},
			})
			if err != nil {
				t.Fatal(err)
			}
			approvals := access.NewApprovals(time.Minute)
			records := make(chan CallRecord, 4)
			p := New(connector.NewRegistry([]*connector.Connector{c}), nil, Options{CallTimeout: 10 * time.Second, IdleTimeout: time.Hour, AllowPrivateNetworks: true, MaxMessageBytes: 1 << 20,
				Access: access.New(indexDecider{idx}, approvals, zerolog.Nop()), ObserveCall: func(_ context.Context, r CallRecord) error { records <- r; return nil }}, zerolog.Nop())
			t.Cleanup(p.Close)
			ann := auth.Principal{User: "ann", Roles: []string{"admin"}} // holding the approver role does not help
			init := &mcp.Message{JSONRPC: "2.0", ID: json.RawMessage("1"), Method: mcp.MethodInitialize,
				Params: json.RawMessage(`{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{}},"clientInfo":{"name":"t","version":"1"}}`)}
			ctx := context.Background()
			s, _, err := p.Initialize(ctx, ann, "db", init)
			if err != nil {
				t.Fatal(err)
			}
			call, _ := mcp.NewRequest(json.RawMessage("2"), mcp.MethodToolsCall, map[string]any{"name": "drop", "arguments": map[string]any{"table": "users"}})
			st, err := s.Call(ctx, call)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			pending := approvals.List(access.ApprovalPending)
			if len(pending) != 1 || pending[0].Approver != tc.approver {
				t.Fatalf("pending %+v", pending)
			}
			id := pending[0].ID
			approve := &mcp.Message{JSONRPC: "2.0", ID: json.RawMessage(`"` + approvalIDPrefix + id + `"`), Result: json.RawMessage(`{"action":"accept","content":{"approve":true}}`)}
			next := make(chan *mcp.Message, 2)
			go func() {
				for {
					m, err := st.Next(ctx)
					if err != nil {
						close(next)
						return
					}
					next <- m
				}
			}()
			if tc.wantAsked {
				if m := <-next; m.Method != "elicitation/create" {
					t.Fatalf("first message %+v, want the elicitation", m)
				}
			}
			if err := s.Send(ctx, approve); err != nil {
				t.Fatal(err)
			}
			if !tc.wantAsked {
				if ap, _ := approvals.Get(id); ap.Status != access.ApprovalPending {
					t.Fatalf("the caller's answer decided the approval: %+v", ap)
				}
				if _, err := approvals.Decide(id, access.Actor{User: "ada", Roles: []string{"admin"}}, true, "admin-api", ""); err != nil {
					t.Fatal(err)
				}
			}
			if m := <-next; m == nil || m.Error != nil || string(m.ID) != "2" {
				t.Fatalf("the approved call's answer %+v", m)
			}
			rec := <-records
			if rec.Decision != "approved" || rec.Approval != id || rec.ApprovedBy != tc.wantBy || rec.ApprovedVia != tc.wantV {
				t.Errorf("record %+v, want approved by %s via %s", rec, tc.wantBy, tc.wantV)
			}
			if ap, _ := approvals.Get(id); ap.UsedAt == nil {
				t.Errorf("the approval was not used: %+v", ap)
			}
		})
	}
}
