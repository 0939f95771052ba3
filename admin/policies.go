package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// PolicyEngine holds the tool access rules (core/policy.Engine).
type PolicyEngine interface {
	Rules() []policy.Rule
	Put(ctx context.Context, r policy.Rule) error
	Delete(ctx context.Context, id string) error
	Import(ctx context.Context, rules []policy.Rule) error
	Decide(user string, req policy.Request) policy.Decision
	DecideAs(user string, roles []string, req policy.Request) policy.Decision
}

func (a *API) routePolicies(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) {
	if a.Policies == nil {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "tool policies are not enabled on this gateway", "")
		return
	}
	act := policy.ActWrite
	if method == fasthttp.MethodGet || len(rest) == 1 && rest[0] == "dry-run" {
		act = policy.ActRead
	}
	if !a.allow(ctx, p, policy.ResPolicies, act) {
		return
	}
	switch {
	case len(rest) == 1 && rest[0] == "rules" && method == fasthttp.MethodGet:
		writeJSON(ctx, fasthttp.StatusOK, map[string]any{"rules": a.Policies.Rules()})
	case len(rest) == 2 && rest[0] == "rules" && method == fasthttp.MethodPut:
		a.putRule(ctx, p, rest[1])
	case len(rest) == 2 && rest[0] == "rules" && method == fasthttp.MethodDelete:
		if err := a.Policies.Delete(detach(ctx), rest[1]); err != nil {
			a.notFoundOr(ctx, err, "no rule \""+rest[1]+"\"")
			return
		}
		a.record(ctx, p, "policy.delete", rest[1], nil)
		ctx.SetStatusCode(fasthttp.StatusNoContent)
	case len(rest) == 1 && rest[0] == "export" && method == fasthttp.MethodGet:
		ctx.Response.Header.Set("Content-Disposition", `attachment; filename="gatehouse-policies.json"`)
		writeJSON(ctx, fasthttp.StatusOK, map[string]any{"version": 1, "rules": a.Policies.Rules()})
	case len(rest) == 1 && rest[0] == "import" && method == fasthttp.MethodPost:
		a.importRules(ctx, p)
	case len(rest) == 1 && rest[0] == "dry-run" && method == fasthttp.MethodPost:
		a.dryRun(ctx)
	default:
		methodNotAllowed(ctx, method)
	}
}

// ruleError answers an invalid rule, naming its field (and a condition's
// line and column).
func ruleError(ctx *fasthttp.RequestCtx, err error) {
	var re *policy.RuleError
	if errors.As(err, &re) {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", err.Error(), re.Field)
		return
	}
	writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid", err.Error(), "")
}

// warnings are things in a rule that are allowed but probably wrong: a
// connector that does not exist (yet), a tool its connector does not have.
func (a *API) warnings(r policy.Rule) []string {
	return a.warningsAmong(r, a.Policies.Rules())
}

// subjectWarnings flag a rule subject that names nobody (yet): an
// unknown role, a group without members or roles, a user who does not
// exist. The rule is kept; it applies once the subject exists.
func (a *API) subjectWarnings(subject string) []string {
	kind, name, _ := strings.Cut(subject, ":")
	switch kind {
	case "role":
		if !slices.Contains(a.Authz.KnownRoles(), name) {
			return []string{fmt.Sprintf("role %q does not exist (yet): create it with POST /admin/v1/roles; until then the rule applies to nobody", name)}
		}
	case "group":
		if g := a.Authz.Group(name); len(g.Members) == 0 && len(g.Roles) == 0 {
			return []string{fmt.Sprintf("group %q has no members (yet): until it has, the rule applies to nobody", name)}
		}
	case "user":
		if name == a.AnonymousUser {
			return nil
		}
		if _, err := a.Users.Get(context.Background(), name); err != nil && errors.Is(err, a.Errs.NotFound) {
			return []string{fmt.Sprintf("user %q does not exist (yet): until it does, the rule applies to nobody", name)}
		}
	}
	return nil
}

// warningsAmong is warnings with the rules r is compared with given (an
// import compares with the imported set).
func (a *API) warningsAmong(r policy.Rule, rules []policy.Rule) []string {
	out := append(append([]string{}, a.subjectWarnings(r.Subject)...), policy.Conflicts(r, rules)...)
	if r.Connector == "*" {
		return out
	}
	c, ok := a.Registry.Lookup(r.Connector)
	if !ok {
		return append(out, fmt.Sprintf("connector %q does not exist (yet): the rule matches nothing until it does", r.Connector))
	}
	if r.Condition != "" && c.Advanced.SkipInputValidation {
		out = append(out, fmt.Sprintf("connector %q skips input validation: this rule's condition is ignored there, so the rule neither allows nor denies", r.Connector))
	}
	if a.Pins != nil && r.Kind == policy.KindTool && !strings.ContainsAny(r.Name, "*?[") {
		if scan, err := a.Pins.Scan(context.Background(), c); err == nil && len(scan.Tools) > 0 {
			found := false
			for _, t := range scan.Tools {
				found = found || t.Name == r.Name
			}
			if !found {
				out = append(out, fmt.Sprintf("connector %q has no tool %q in its last scan", r.Connector, r.Name))
			}
		}
	}
	return out
}

func (a *API) putRule(ctx *fasthttp.RequestCtx, p auth.Principal, id string) {
	var r policy.Rule
	if err := decodeStrict(ctx.PostBody(), &r); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	if r.ID != "" && r.ID != id {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "the body's id "+r.ID+" differs from the path's "+id, "id")
		return
	}
	r.ID = id
	r.Defaults() // the answer shows the approver a require-approval rule gets
	if err := a.Policies.Put(detach(ctx), r); err != nil {
		ruleError(ctx, err)
		return
	}
	a.record(ctx, p, "policy.put", id, map[string]any{"subject": r.Subject, "connector": r.Connector, "effect": r.Effect})
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"rule": r, "warnings": a.warnings(r)})
}

func (a *API) importRules(ctx *fasthttp.RequestCtx, p auth.Principal) {
	var body struct {
		Version int           `json:"version"`
		Rules   []policy.Rule `json:"rules"`
	}
	if err := decodeStrict(ctx.PostBody(), &body); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	if body.Version != 0 && body.Version != 1 {
		writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", "version must be 1", "version")
		return
	}
	if err := a.Policies.Import(detach(ctx), body.Rules); err != nil {
		ruleError(ctx, err)
		return
	}
	warnings := []string{}
	for _, r := range body.Rules {
		for _, w := range a.warningsAmong(r, body.Rules) {
			warnings = append(warnings, r.ID+": "+w)
		}
	}
	a.record(ctx, p, "policy.import", "", map[string]any{"rules": len(body.Rules)})
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"imported": len(body.Rules), "warnings": warnings})
}

// dryRun answers "may user U do this?" with the deciding rule.
func (a *API) dryRun(ctx *fasthttp.RequestCtx) {
	var body struct {
		User      string         `json:"user"`
		Connector string         `json:"connector"`
		Kind      string         `json:"kind"`
		Name      string         `json:"name"`
		Action    string         `json:"action"`
		Arguments map[string]any `json:"arguments"`
	}
	if err := decodeStrict(ctx.PostBody(), &body); err != nil {
		writeError(ctx, fasthttp.StatusBadRequest, "invalid_json", err.Error(), fieldOf(err))
		return
	}
	if body.Kind == "" {
		body.Kind = policy.KindTool
	}
	if body.Action == "" {
		body.Action = policy.ActCall
	}
	for field, v := range map[string]string{"user": body.User, "connector": body.Connector, "name": body.Name} {
		if v == "" {
			writeError(ctx, fasthttp.StatusUnprocessableEntity, "invalid_field", field+" is required", field)
			return
		}
	}
	req := policy.Request{Connector: body.Connector, Kind: body.Kind, Name: body.Name, Action: body.Action, Args: body.Arguments}
	if c, ok := a.Registry.Lookup(body.Connector); ok {
		req.SkipConditions = c.Advanced.SkipInputValidation
	}
	var roles []string // as authentication would give them
	if body.User == a.AnonymousUser && len(a.Authz.Roles(body.User)) == 0 {
		roles = a.AnonymousRoles
	}
	d := a.Policies.DecideAs(body.User, roles, req)
	out := map[string]any{"effect": d.Effect, "reason": d.Reason, "skip_conditions": req.SkipConditions}
	if d.Rule != nil {
		out["rule"] = d.Rule.ID
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}
