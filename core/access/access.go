// Package access enforces tool policies on MCP traffic: it narrows
// listings to what the caller may use, decides every call, resource read
// and prompt before it reaches the upstream, validates tool arguments
// against the tool's input schema, and holds calls that a
// require-approval rule sends to a human.
package access

import (
	"encoding/json"
	"errors"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// Decider answers policy questions (core/policy.Engine implements it).
type Decider interface {
	DecideAs(user string, roles []string, req policy.Request) policy.Decision
	Grants(user string, roles []string, connector string) bool
}

// Gate enforces the tool policies. It is safe for concurrent use.
type Gate struct {
	decider   Decider
	schemas   *Schemas
	approvals *Approvals
	log       zerolog.Logger
}

// New returns a gate deciding with decider and holding calls in
// approvals.
func New(decider Decider, approvals *Approvals, log zerolog.Logger) *Gate {
	return &Gate{decider: decider, schemas: NewSchemas(), approvals: approvals, log: log}
}

// Approvals is the gate's registry of held calls.
func (g *Gate) Approvals() *Approvals { return g.approvals }

// Forget drops what the gate learnt of a connector (its tool schemas).
func (g *Gate) Forget(c *connector.Connector) { g.schemas.Forget(c.ID) }

// KnowsTool reports whether the input schema of c's tool is known.
func (g *Gate) KnowsTool(c *connector.Connector, tool string) bool {
	return g.schemas.known(c.ID, tool)
}

// MayUse reports whether p is granted anything on c; the gateway itself
// always is.
func (g *Gate) MayUse(p auth.Principal, c *connector.Connector) bool {
	return p.System || g.decider.Grants(p.User, p.Roles, c.Slug)
}

// Unusable is the error for a caller granted nothing on a connector.
func Unusable(slug string) *mcp.Error {
	return mcp.Errorf(mcp.CodePolicyDenied, "denied by policy: no rule lets you use connector %q; ask an admin for access", slug)
}

// target is the policy question a request asks.
type target struct {
	kind, name, action string
	args               json.RawMessage
}

// targetOf maps a client request to its policy question; false for
// requests policies do not govern (ping, listings, logging, ...).
func targetOf(req *mcp.Message) (target, bool) {
	var p struct {
		Name      string          `json:"name"`
		URI       string          `json:"uri"`
		Arguments json.RawMessage `json:"arguments"`
		Ref       struct {
			Type string `json:"type"`
			Name string `json:"name"`
			URI  string `json:"uri"`
		} `json:"ref"`
	}
	switch req.Method {
	case mcp.MethodToolsCall, mcp.MethodPromptsGet, mcp.MethodResourcesRead, mcp.MethodResourcesSubscribe, mcp.MethodCompletionComplete:
	default:
		return target{}, false
	}
	// Malformed params are the upstream's to refuse; the policy question
	// is then asked of the empty name, which only a "*" rule allows.
	_ = json.Unmarshal(req.Params, &p)
	switch req.Method {
	case mcp.MethodToolsCall:
		return target{kind: policy.KindTool, name: p.Name, action: policy.ActCall, args: p.Arguments}, true
	case mcp.MethodPromptsGet:
		return target{kind: policy.KindPrompt, name: p.Name, action: policy.ActRead}, true
	case mcp.MethodCompletionComplete:
		if p.Ref.Type == "ref/prompt" {
			return target{kind: policy.KindPrompt, name: p.Ref.Name, action: policy.ActRead}, true
		}
		return target{kind: policy.KindResource, name: p.Ref.URI, action: policy.ActRead}, true
	default: // resources/read, resources/subscribe
		return target{kind: policy.KindResource, name: p.URI, action: policy.ActRead}, true
	}
}

// Admission is the gate's answer to a request.
type Admission struct {
	// Err refuses the request (a denial, arguments that are not an
	// object); nil admits it, possibly after an approval.
	Err *mcp.Error
	// Decision is the policy decision, for the audit log (zero for
	// requests policies do not govern).
	Decision policy.Decision
	// Approval, when set, holds the call until it is decided (wait with
	// Approvals().Wait; Outcome says what the client gets).
	Approval *Approval
	// Unvalidated, when set, says why a call's arguments were not checked
	// against the tool's input schema.
	Unvalidated string
	// Invalid, when set, is the call's arguments failing the tool's input
	// schema: the call is answered with a tool execution error (SEP-1303,
	// MCP 2025-11-25: the model sees it and can correct itself) without
	// reaching the upstream. See InvalidResult.
	Invalid *InvalidArguments
}

// InvalidResult is the tools/call answer for arguments that fail the
// tool's schema: a result with isError set, naming the argument.
func InvalidResult(id json.RawMessage, inv *InvalidArguments) *mcp.Message {
	m, err := mcp.NewResult(id, map[string]any{
		"content": []any{map[string]any{"type": "text", "text": inv.Error() + " (checked by the gateway against the tool's input schema)"}},
		"isError": true,
	})
	if err != nil { // cannot happen: the value is plain JSON
		return mcp.NewErrorResponse(id, mcp.NewError(mcp.CodeInvalidParams, inv.Error()))
	}
	return m
}

// Admit decides req from p on connector c.
func (g *Gate) Admit(p auth.Principal, c *connector.Connector, req *mcp.Message) Admission {
	return g.admit(p, c, req, use{})
}

// AdmitApproved decides a call approved as approval id: everything as
// Admit, and a require-approval rule that holds it takes the approval
// instead of holding it again, once, and only when the approval was given
// for this very call (Approvals.Use); otherwise the call is denied.
func (g *Gate) AdmitApproved(p auth.Principal, c *connector.Connector, req *mcp.Message, id string) Admission {
	return g.admit(p, c, req, use{approval: id})
}

// AdmitContinued decides a request continuing an approved call that went
// upstream already (the retries of the upstream's own input_required
// round trip): everything as Admit, but a require-approval rule does not
// hold it again.
func (g *Gate) AdmitContinued(p auth.Principal, c *connector.Connector, req *mcp.Message) Admission {
	return g.admit(p, c, req, use{continued: true})
}

// use says how admit treats a require-approval rule: hold the call (the
// zero use), take an approval, or let a continuation through.
type use struct {
	approval  string
	continued bool
}

func (g *Gate) admit(p auth.Principal, c *connector.Connector, req *mcp.Message, u use) Admission {
	t, ok := targetOf(req)
	if !ok || p.System {
		return Admission{}
	}
	q := policy.Request{Connector: c.Slug, Kind: t.kind, Name: t.name, Action: t.action, SkipConditions: c.Advanced.SkipInputValidation}
	if t.kind == policy.KindTool {
		// Decoded once, for the conditions and the schema alike (numbers
		// as float64: integers beyond 2^53 lose precision in both).
		args, err := decodeArgs(t.args)
		if err != nil {
			return Admission{Err: mcp.Errorf(mcp.CodeInvalidParams, "invalid params: arguments of tool %q: %v", t.name, err)}
		}
		q.Args = args
	}
	d := g.decider.DecideAs(p.User, p.Roles, q)
	adm := Admission{Decision: d}
	if d.ConditionError != "" && d.Rule != nil {
		// The denial or the approval says so too; this is for operators.
		g.log.Warn().Str("connector", c.Slug).Str("tool", t.name).Str("rule", d.Rule.ID).Str("effect", d.Effect).
			Str("condition_error", d.ConditionError).Msg("a rule's condition could not be evaluated as written; the rule applied")
	}
	if d.Effect == policy.EffectDeny {
		adm.Err = Denied(d)
		return adm
	}
	if t.kind == policy.KindTool {
		if c.Advanced.SkipInputValidation {
			adm.Unvalidated = "the connector skips input validation"
		} else if err := g.schemas.Validate(c.ID, t.name, q.Args); err != nil {
			var inv *InvalidArguments
			switch {
			case errors.As(err, &inv):
				adm.Invalid = inv
				return adm
			case errors.Is(err, ErrNoSchema):
				adm.Unvalidated = "the tool's input schema is not known"
			default:
				adm.Unvalidated = err.Error()
				g.log.Warn().Err(err).Str("connector", c.Slug).Str("tool", t.name).Msg("tool arguments passed unvalidated")
			}
		}
	}
	if d.Effect != policy.EffectRequireApproval || u.continued {
		return adm
	}
	if g.approvals == nil {
		adm.Err = mcp.Errorf(mcp.CodePolicyDenied, "%s, and approvals are not enabled on this gateway", d.Reason)
		return adm
	}
	b, approver, err := bindingOf(p, c, t, d)
	if err != nil {
		adm.Err = mcp.Errorf(mcp.CodeInvalidParams, "invalid params: arguments of tool %q: %v", t.name, err)
		return adm
	}
	if u.approval == "" {
		adm.Approval = g.approvals.Open(b, t.args, approver, c.Advanced.Sensitive)
		return adm
	}
	if _, err := g.approvals.Use(u.approval, b); err != nil {
		adm.Err = mcp.Errorf(mcp.CodePolicyDenied, "denied by policy: approval %s does not apply to this call: %v", u.approval, err)
		adm.Err.Data, _ = json.Marshal(map[string]string{"rule": b.Rule, "approval": u.approval, "reason": err.Error()})
	}
	return adm
}

// bindingOf is the binding of call t by p on c, which decision d holds for
// an approval, and the approver the deciding rule names.
func bindingOf(p auth.Principal, c *connector.Connector, t target, d policy.Decision) (Binding, string, error) {
	hash, err := ArgsHash(t.args)
	if err != nil {
		return Binding{}, "", err
	}
	b := Binding{User: p.User, Connector: c.Slug, Tool: t.name, ArgsHash: hash, PolicyVersion: d.Version}
	approver := policy.ApproverAdmin
	if d.Rule != nil {
		b.Rule = d.Rule.ID
		if d.Rule.Approver != "" {
			approver = d.Rule.Approver
		}
	}
	return b, approver, nil
}

// decodeArgs decodes a call's arguments: absent or null is an empty
// object; anything but an object is an error.
func decodeArgs(raw json.RawMessage) (map[string]any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]any{}, nil
	}
	var args map[string]any
	if err := json.Unmarshal(raw, &args); err != nil || args == nil {
		return nil, errors.New("must be a JSON object")
	}
	return args, nil
}

// Denied is the error a client gets for a denial: the reason names the
// deciding rule (and its description), never other rules.
func Denied(d policy.Decision) *mcp.Error {
	e := mcp.Errorf(mcp.CodePolicyDenied, "denied by policy: %s", d.Reason)
	data := map[string]string{"reason": d.Reason}
	if d.Rule != nil {
		data["rule"] = d.Rule.ID
	}
	e.Data, _ = json.Marshal(data)
	return e
}

// Outcome turns a finished approval into the call's fate: nil to go on,
// else the error the client gets.
func Outcome(ap Approval) *mcp.Error {
	if ap.Status == ApprovalApproved {
		return nil
	}
	why := map[string]string{
		ApprovalDenied:    "the approval was denied by " + ap.DecidedBy,
		ApprovalExpired:   "nobody approved it in time",
		ApprovalAbandoned: "the call was abandoned before a decision",
	}[ap.Status]
	msg := "denied by policy: rule " + ap.Rule + " requires an approval for call " + ap.Tool + ", and " + why
	if ap.Note != "" && ap.Status == ApprovalDenied {
		msg += ": " + ap.Note
	}
	e := mcp.NewError(mcp.CodePolicyDenied, msg)
	e.Data, _ = json.Marshal(map[string]string{"rule": ap.Rule, "approval": ap.ID, "status": ap.Status})
	return e
}

// listing says how a list method's items are named for policies.
type listing struct {
	field, kind, key string
}

var listings = map[string]listing{
	mcp.MethodToolsList:         {"tools", policy.KindTool, "name"},
	mcp.MethodPromptsList:       {"prompts", policy.KindPrompt, "name"},
	mcp.MethodResourcesList:     {"resources", policy.KindResource, "uri"},
	mcp.MethodResourceTemplates: {"resourceTemplates", policy.KindResource, "uriTemplate"},
}

// Governs reports whether the gate filters answers to method.
func Governs(method string) bool {
	_, ok := listings[method]
	return ok
}

// FilterList narrows a listing answered by c to what p may list, and
// learns the input schemas of a tools/list page (before narrowing: the
// schema cache serves every caller). Answers it cannot read pass as they
// are: the upstream owns their shape.
func (g *Gate) FilterList(p auth.Principal, c *connector.Connector, method string, resp *mcp.Message) *mcp.Message {
	l, ok := listings[method]
	if !ok || resp == nil || resp.Error != nil || len(resp.Result) == 0 {
		return resp
	}
	if method == mcp.MethodToolsList && !c.Advanced.SkipInputValidation {
		g.schemas.Learn(c.ID, resp.Result)
	}
	if p.System {
		return resp
	}
	var result map[string]json.RawMessage
	if json.Unmarshal(resp.Result, &result) != nil {
		return resp
	}
	var items []json.RawMessage
	if json.Unmarshal(result[l.field], &items) != nil {
		return resp
	}
	kept := items[:0:0]
	for _, raw := range items {
		var id struct {
			Name        string `json:"name"`
			URI         string `json:"uri"`
			URITemplate string `json:"uriTemplate"`
		}
		if json.Unmarshal(raw, &id) != nil {
			continue
		}
		name := id.Name
		switch l.key {
		case "uri":
			name = id.URI
		case "uriTemplate":
			name = id.URITemplate
		}
		d := g.decider.DecideAs(p.User, p.Roles, policy.Request{Connector: c.Slug, Kind: l.kind, Name: name, Action: policy.ActList})
		if d.Effect != policy.EffectDeny {
			kept = append(kept, raw)
		}
	}
	if len(kept) == len(items) {
		return resp
	}
	result[l.field], _ = json.Marshal(kept)
	m := *resp
	m.Result, _ = json.Marshal(result)
	m.Raw = nil
	return &m
}
