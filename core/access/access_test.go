package access

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// indexDecider decides with a real rule index; a user's subjects are the
// user and the roles given.
type indexDecider struct{ idx *policy.Index }

func (d indexDecider) DecideAs(user string, roles []string, req policy.Request) policy.Decision {
	req.Subjects = subjects(user, roles)
	return d.idx.Decide(req)
}

func (d indexDecider) Grants(user string, roles []string, connector string) bool {
	return d.idx.Grants(subjects(user, roles), connector)
}

func subjects(user string, roles []string) []string {
	out := []string{"user:" + user}
	for _, r := range roles {
		out = append(out, "role:"+r)
	}
	return out
}

func newGate(t *testing.T, rules ...policy.Rule) *Gate {
	t.Helper()
	cs, err := policy.NewConditions()
	if err != nil {
		t.Fatal(err)
	}
	idx, err := policy.NewIndex(cs, rules)
	if err != nil {
		t.Fatal(err)
	}
	return New(indexDecider{idx}, NewApprovals(time.Minute), zerolog.Nop())
}

func request(t *testing.T, method string, params any) *mcp.Message {
	t.Helper()
	m, err := mcp.NewRequest(json.RawMessage(`7`), method, params)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func result(t *testing.T, v any) *mcp.Message {
	t.Helper()
	m, err := mcp.NewResult(json.RawMessage(`7`), v)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var toolsPage = map[string]any{"tools": []any{
	map[string]any{"name": "search", "inputSchema": map[string]any{"type": "object",
		"properties": map[string]any{"repo": map[string]any{"type": "string"}, "limit": map[string]any{"type": "integer", "maximum": 100}},
		"required":   []string{"repo"}}},
	map[string]any{"name": "delete_repo", "inputSchema": map[string]any{"type": "object"}},
	map[string]any{"name": "remote_ref", "inputSchema": map[string]any{"$ref": "https://example.com/schema.json"}},
}}

func TestAdmit(t *testing.T) {
	gh := &connector.Connector{ID: "c1", Slug: "github"}
	skip := &connector.Connector{ID: "c2", Slug: "loose", Advanced: connector.Advanced{SkipInputValidation: true}}
	rules := []policy.Rule{
		{ID: "members-search", Subject: "role:member", Connector: "github", Kind: policy.KindTool, Name: "search", Actions: []string{"call"}, Effect: "allow",
			Condition: `args.repo.glob("acme/*")`},
		{ID: "no-delete", Subject: "*", Connector: "*", Kind: policy.KindTool, Name: "delete_*", Actions: []string{"call"}, Effect: "deny", Description: "deleting is for humans"},
		{ID: "admins", Subject: "role:admin", Connector: "*", Kind: policy.KindAny, Name: "*", Actions: []string{"list", "call", "read"}, Effect: "allow"},
		{ID: "careful", Subject: "user:ann", Connector: "github", Kind: policy.KindTool, Name: "search", Actions: []string{"call"}, Effect: "require-approval"},
		{ID: "loose-cond", Subject: "role:member", Connector: "loose", Kind: policy.KindTool, Name: "search", Actions: []string{"call"}, Effect: "allow", Condition: `args.repo == "x"`},
		{ID: "prompts", Subject: "role:member", Connector: "github", Kind: policy.KindPrompt, Name: "review", Actions: []string{"read"}, Effect: "allow"},
		{ID: "files", Subject: "role:member", Connector: "github", Kind: policy.KindResource, Name: "*", Actions: []string{"read"}, Effect: "allow"},
	}
	g := newGate(t, rules...)
	g.FilterList(auth.Principal{User: "x", System: true}, gh, mcp.MethodToolsList, result(t, toolsPage))

	member := auth.Principal{User: "mia", Roles: []string{"member"}}
	admin := auth.Principal{User: "ada", Roles: []string{"admin"}}
	call := func(name string, args any) *mcp.Message {
		return request(t, mcp.MethodToolsCall, map[string]any{"name": name, "arguments": args})
	}
	tests := []struct {
		name      string
		who       auth.Principal
		c         *connector.Connector
		req       *mcp.Message
		code      int    // 0: admitted
		inMessage string // part of the error message
		rule      string // the deciding rule named in the error data
		approval  bool
		unvalid   string // part of Unvalidated
		invalid   string // part of the invalid-arguments message
	}{
		{name: "a condition that holds admits", who: member, c: gh, req: call("search", map[string]any{"repo": "acme/api"})},
		{name: "a condition that fails denies and names its rule", who: member, c: gh, req: call("search", map[string]any{"repo": "evil/api"}),
			code: mcp.CodePolicyDenied, inMessage: `the condition of rule members-search holds: the arguments do not satisfy args.repo.glob("acme/*")`, rule: "members-search"},
		{name: "deny beats allow and names the rule and its description", who: admin, c: gh, req: call("delete_repo", map[string]any{}),
			code: mcp.CodePolicyDenied, inMessage: "rule no-delete denies call delete_repo on github: deleting is for humans", rule: "no-delete"},
		{name: "nothing allowing is a denial", who: member, c: gh, req: call("other", nil), code: mcp.CodePolicyDenied, inMessage: "no rule allows you to call other on github"},
		{name: "arguments against the schema are a tool error naming the argument", who: admin, c: gh, req: call("search", map[string]any{"repo": "a/b", "limit": 1000}),
			invalid: "argument /limit"},
		{name: "a missing required argument is a tool error", who: admin, c: gh, req: call("search", map[string]any{}),
			invalid: "repo"},
		{name: "arguments that are not an object are invalid params", who: admin, c: gh, req: call("search", []int{1}),
			code: mcp.CodeInvalidParams, inMessage: "must be a JSON object"},
		{name: "an unknown schema passes unvalidated", who: admin, c: gh, req: call("never_listed", map[string]any{}), unvalid: "not known"},
		{name: "a schema with a remote $ref passes unvalidated", who: admin, c: gh, req: call("remote_ref", map[string]any{}), unvalid: "does not compile"},
		{name: "require-approval holds the call", who: auth.Principal{User: "ann", Roles: []string{"admin"}}, c: gh, req: call("search", map[string]any{"repo": "a/b"}), approval: true},
		{name: "require-approval still validates first", who: auth.Principal{User: "ann"}, c: gh, req: call("search", map[string]any{"repo": 5}),
			invalid: "repo"},
		{name: "skip-validation ignores conditions: the conditional allow does not apply", who: member, c: skip, req: call("search", map[string]any{"repo": "x"}),
			code: mcp.CodePolicyDenied},
		{name: "skip-validation: no schema check, and it says so", who: admin, c: skip, req: call("search", map[string]any{"repo": 5}), unvalid: "skips input validation"},
		{name: "prompts/get is a read of the prompt", who: member, c: gh, req: request(t, "prompts/get", map[string]any{"name": "review"})},
		{name: "another prompt is denied", who: member, c: gh, req: request(t, "prompts/get", map[string]any{"name": "secret"}), code: mcp.CodePolicyDenied},
		{name: "resources/read matches * across slashes", who: member, c: gh, req: request(t, "resources/read", map[string]any{"uri": "file:///srv/a/b.txt"})},
		{name: "completion of a prompt argument is a read of the prompt", who: member, c: gh,
			req:  request(t, "completion/complete", map[string]any{"ref": map[string]any{"type": "ref/prompt", "name": "secret"}, "argument": map[string]any{"name": "a", "value": ""}}),
			code: mcp.CodePolicyDenied},
		{name: "ping is not governed", who: member, c: gh, req: request(t, "ping", nil)},
		{name: "the gateway itself passes", who: auth.Principal{User: "gatehouse", System: true}, c: gh, req: call("delete_repo", nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			adm := g.Admit(tt.who, tt.c, tt.req)
			if tt.code == 0 {
				if adm.Err != nil {
					t.Fatalf("refused: %v", adm.Err)
				}
			} else {
				if adm.Err == nil || adm.Err.Code != tt.code {
					t.Fatalf("got %v, want code %d", adm.Err, tt.code)
				}
				if !strings.Contains(adm.Err.Message, tt.inMessage) {
					t.Errorf("message %q lacks %q", adm.Err.Message, tt.inMessage)
				}
				if tt.rule != "" {
					var data map[string]string
					_ = json.Unmarshal(adm.Err.Data, &data)
					if data["rule"] != tt.rule {
						t.Errorf("data %s, want rule %s", adm.Err.Data, tt.rule)
					}
				}
				for _, other := range []string{"members-search", "admins", "careful"} {
					if other != tt.rule && strings.Contains(adm.Err.Message, other) {
						t.Errorf("the message leaks rule %s: %q", other, adm.Err.Message)
					}
				}
			}
			switch {
			case tt.invalid == "" && adm.Invalid != nil:
				t.Errorf("invalid arguments: %v", adm.Invalid)
			case tt.invalid != "" && (adm.Invalid == nil || !strings.Contains(adm.Invalid.Error(), tt.invalid)):
				t.Errorf("invalid %v, want %q", adm.Invalid, tt.invalid)
			case tt.invalid != "":
				res := InvalidResult(json.RawMessage(`7`), adm.Invalid)
				if b := string(res.Bytes()); !strings.Contains(b, `"isError":true`) || !strings.Contains(b, tt.invalid) {
					t.Errorf("the tool error %s", b)
				}
			}
			if (adm.Approval != nil) != tt.approval {
				t.Errorf("approval %v, want %v", adm.Approval, tt.approval)
			}
			if tt.unvalid == "" && adm.Unvalidated != "" || !strings.Contains(adm.Unvalidated, tt.unvalid) {
				t.Errorf("unvalidated %q, want %q", adm.Unvalidated, tt.unvalid)
			}
		})
	}
}

func TestAdmitApprovalRecordsTheCall(t *testing.T) {
	g := newGate(t, policy.Rule{ID: "hold", Subject: "*", Connector: "db", Kind: policy.KindTool, Name: "drop", Actions: []string{"call"}, Effect: "require-approval"})
	c := &connector.Connector{ID: "d", Slug: "db", Advanced: connector.Advanced{Sensitive: true}}
	adm := g.Admit(auth.Principal{User: "ann"}, c, request(t, mcp.MethodToolsCall, map[string]any{"name": "drop", "arguments": map[string]any{"table": "users"}}))
	ap := adm.Approval
	if ap == nil || ap.User != "ann" || ap.Connector != "db" || ap.Tool != "drop" || ap.Rule != "hold" || !ap.Sensitive || string(ap.Arguments) != `{"table":"users"}` {
		t.Fatalf("approval %+v", ap)
	}
	if pending := g.Approvals().List(ApprovalPending); len(pending) != 1 || pending[0].ID != ap.ID {
		t.Fatalf("pending %+v", pending)
	}
}

func TestAdmitApprovedTakesTheApprovalOfThatCallOnce(t *testing.T) {
	g := newGate(t, policy.Rule{ID: "hold", Subject: "*", Connector: "db", Kind: policy.KindTool, Name: "*", Actions: []string{"call"}, Effect: "require-approval"})
	db := &connector.Connector{ID: "d", Slug: "db"}
	ann := auth.Principal{User: "ann", Roles: []string{"member"}}
	call := func(tool string, args map[string]any) *mcp.Message {
		return request(t, mcp.MethodToolsCall, map[string]any{"name": tool, "arguments": args})
	}
	approved := func(t *testing.T) string {
		t.Helper()
		adm := g.Admit(ann, db, call("drop", map[string]any{"table": "users", "cascade": false}))
		if adm.Approval == nil || adm.Approval.Approver != policy.ApproverAdmin || adm.Approval.ArgsHash == "" {
			t.Fatalf("admission %+v", adm)
		}
		if _, err := g.Approvals().Decide(adm.Approval.ID, Actor{User: "ann", Roles: []string{"member"}}, true, "elicitation", ""); !errors.Is(err, ErrSelfApproval) {
			t.Fatalf("the caller approved their own call: %v", err)
		}
		if _, err := g.Approvals().Decide(adm.Approval.ID, Actor{User: "ada", Roles: []string{"admin"}}, true, "admin-api", ""); err != nil {
			t.Fatal(err)
		}
		return adm.Approval.ID
	}
	tests := []struct {
		name string
		who  auth.Principal
		c    *connector.Connector
		req  *mcp.Message
		want string // in the denial; "" admitted
	}{
		{"the same call, its members in another order", ann, db, call("drop", map[string]any{"cascade": false, "table": "users"}), ""},
		{"other arguments", ann, db, call("drop", map[string]any{"table": "orders", "cascade": false}), "arguments differs"},
		{"another tool", ann, db, call("truncate", map[string]any{"table": "users", "cascade": false}), "tool differs"},
		{"another user", auth.Principal{User: "eve"}, db, call("drop", map[string]any{"table": "users", "cascade": false}), "user differs"},
		{"another connector", ann, &connector.Connector{ID: "e", Slug: "db2"}, call("drop", map[string]any{"table": "users", "cascade": false}), "no rule allows"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := approved(t)
			adm := g.AdmitApproved(tc.who, tc.c, tc.req, id)
			switch {
			case tc.want == "" && (adm.Err != nil || adm.Approval != nil):
				t.Fatalf("admission %+v (%v)", adm, adm.Err)
			case tc.want != "" && (adm.Err == nil || adm.Err.Code != mcp.CodePolicyDenied || !strings.Contains(adm.Err.Message, tc.want)):
				t.Fatalf("admission error %v, want a denial naming %q", adm.Err, tc.want)
			}
			if tc.want != "" {
				return
			}
			again := g.AdmitApproved(tc.who, tc.c, tc.req, id)
			if again.Err == nil || !strings.Contains(again.Err.Message, "used already") {
				t.Errorf("a second use: %v", again.Err)
			}
		})
	}
	t.Run("a continuation is neither held nor takes an approval", func(t *testing.T) {
		if adm := g.AdmitContinued(ann, db, call("drop", nil)); adm.Err != nil || adm.Approval != nil {
			t.Errorf("admission %+v", adm)
		}
	})
}

func TestFilterList(t *testing.T) {
	gh := &connector.Connector{ID: "c1", Slug: "github"}
	g := newGate(t,
		policy.Rule{ID: "a", Subject: "role:member", Connector: "github", Kind: policy.KindTool, Name: "search", Actions: []string{"list"}, Effect: "allow"},
		policy.Rule{ID: "b", Subject: "role:member", Connector: "github", Kind: policy.KindResource, Name: "file:///pub/*", Actions: []string{"list"}, Effect: "allow"},
		policy.Rule{ID: "c", Subject: "role:member", Connector: "github", Kind: policy.KindPrompt, Name: "r*", Actions: []string{"list"}, Effect: "allow"},
		policy.Rule{ID: "d", Subject: "role:member", Connector: "github", Kind: policy.KindTool, Name: "*", Actions: []string{"call"}, Effect: "allow"},
	)
	member := auth.Principal{User: "mia", Roles: []string{"member"}}
	names := func(m *mcp.Message, field, key string) []string {
		var r map[string]json.RawMessage
		var list []map[string]any
		if err := json.Unmarshal(m.Result, &r); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(r[field], &list); err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, it := range list {
			out = append(out, it[key].(string))
		}
		return out
	}
	tests := []struct {
		method, field, key string
		items              []string
		who                auth.Principal
		want               []string
	}{
		{mcp.MethodToolsList, "tools", "name", []string{"search", "delete_repo", "x"}, member, []string{"search"}},
		{"resources/list", "resources", "uri", []string{"file:///pub/a", "file:///priv/b"}, member, []string{"file:///pub/a"}},
		{"resources/templates/list", "resourceTemplates", "uriTemplate", []string{"file:///pub/{name}", "db://{table}"}, member, []string{"file:///pub/{name}"}},
		{"prompts/list", "prompts", "name", []string{"review", "secret"}, member, []string{"review"}},
		{mcp.MethodToolsList, "tools", "name", []string{"search", "delete_repo"}, auth.Principal{User: "nobody"}, []string{}},
		{mcp.MethodToolsList, "tools", "name", []string{"search", "delete_repo"}, auth.Principal{User: "gatehouse", System: true}, []string{"search", "delete_repo"}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" for "+tt.who.User, func(t *testing.T) {
			items := []any{}
			for _, n := range tt.items {
				items = append(items, map[string]any{tt.key: n, "description": "d"})
			}
			resp := result(t, map[string]any{tt.field: items, "nextCursor": "c2"})
			got := g.FilterList(tt.who, gh, tt.method, resp)
			if n := names(got, tt.field, tt.key); strings.Join(n, ",") != strings.Join(tt.want, ",") {
				t.Errorf("kept %v, want %v", n, tt.want)
			}
			if !strings.Contains(string(got.Bytes()), `"nextCursor":"c2"`) {
				t.Errorf("the cursor was lost: %s", got.Bytes())
			}
		})
	}
	t.Run("answers it cannot read pass as they are", func(t *testing.T) {
		for _, resp := range []*mcp.Message{
			result(t, map[string]any{"tools": "not a list"}),
			mcp.NewErrorResponse(json.RawMessage(`7`), mcp.NewError(-1, "upstream error")),
			nil,
		} {
			if got := g.FilterList(member, gh, mcp.MethodToolsList, resp); got != resp {
				t.Errorf("changed %v into %v", resp, got)
			}
		}
	})
	t.Run("other methods pass", func(t *testing.T) {
		resp := result(t, map[string]any{"content": []any{}})
		if got := g.FilterList(member, gh, mcp.MethodToolsCall, resp); got != resp {
			t.Error("a tools/call answer was touched")
		}
	})
}

func TestMayUse(t *testing.T) {
	g := newGate(t, policy.Rule{ID: "a", Subject: "role:eng", Connector: "github", Kind: policy.KindTool, Name: "x", Actions: []string{"call"}, Effect: "allow"})
	gh := &connector.Connector{ID: "1", Slug: "github"}
	tests := []struct {
		who  auth.Principal
		want bool
	}{
		{auth.Principal{User: "ed", Roles: []string{"eng"}}, true},
		{auth.Principal{User: "mia", Roles: []string{"member"}}, false},
		{auth.Principal{User: "gatehouse", System: true}, true},
	}
	for _, tt := range tests {
		if got := g.MayUse(tt.who, gh); got != tt.want {
			t.Errorf("MayUse(%s) = %v, want %v", tt.who.User, got, tt.want)
		}
	}
	if e := Unusable("github"); e.Code != mcp.CodePolicyDenied || !strings.Contains(e.Message, `connector "github"`) {
		t.Errorf("Unusable: %v", e)
	}
}
