package policy

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
)

// Tool access rules (issue 5). A rule grants or refuses a subject an
// action on a connector's tools, resources or prompts; deny beats
// require-approval, which beats allow; what no rule allows is denied.
//
// Subjects are "user:<id>", "role:<name>", "group:<name>" or "*"; the
// caller's subjects are their user, their roles and groups, and every role
// those inherit (the RBAC graph is Casbin's, kept with the admin rules).

// Effects.
const (
	EffectAllow           = "allow"
	EffectDeny            = "deny"
	EffectRequireApproval = "require-approval"
)

// Object kinds and actions of tool rules.
const (
	KindTool     = "tool"
	KindResource = "resource"
	KindPrompt   = "prompt"
	// KindAny matches tools, resources and prompts alike.
	KindAny = "*"

	ActList = "list"
	ActCall = "call"
)

// Rule is one tool access rule.
type Rule struct {
	ID        string `json:"id"`
	Subject   string `json:"subject"`
	Connector string `json:"connector"` // a slug, or "*"
	Kind      string `json:"kind"`      // tool, resource, prompt or * (all three)
	// Name is a glob over the tool or prompt name, or the resource URI
	// (URI template in listings); "*" alone matches every name, slashes
	// included, while in other globs "*" stops at "/".
	Name    string   `json:"name"`
	Actions []string `json:"actions"` // list, call, read
	Effect  string   `json:"effect"`
	// Condition is a CEL expression over the call's arguments (call on
	// tools only, on one connector).
	Condition string `json:"condition,omitempty"`
	// Description says why the rule exists; shown in a deny message.
	Description string `json:"description,omitempty"`
	// Approver, on a require-approval rule, is who may approve the calls
	// it holds (ApproverCaller, ApproverAdmin or "role:<name>"); empty is
	// ApproverAdmin (Defaults).
	Approver string `json:"approver,omitempty"`

	cond *Condition
}

// RuleError names the rule field that is wrong.
type RuleError struct {
	Field, Message string
	// Condition is set for a condition that does not compile.
	Condition *ConditionError
}

func (e *RuleError) Error() string { return e.Field + ": " + e.Message }

// Unwrap exposes the condition error, if any.
func (e *RuleError) Unwrap() error {
	if e.Condition != nil {
		return e.Condition
	}
	return nil
}

var (
	subjectPattern   = regexp.MustCompile(`^(?:\*|(?:user|role|group):[A-Za-z0-9][A-Za-z0-9._@-]{0,63})$`)
	connectorPattern = regexp.MustCompile(`^(?:\*|[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)$`)
)

// Validate checks r (after Defaults) and compiles its condition with cs.
func (r *Rule) Validate(cs *Conditions) error {
	r.Defaults()
	bad := func(field, format string, args ...any) error {
		return &RuleError{Field: field, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case !subjectPattern.MatchString(r.Subject):
		return bad("subject", "%q is not user:<id>, role:<name>, group:<name> or *", r.Subject)
	case !connectorPattern.MatchString(r.Connector):
		return bad("connector", "%q is not a connector slug or *", r.Connector)
	}
	switch r.Kind {
	case KindTool, KindResource, KindPrompt, KindAny:
	default:
		return bad("kind", "%q is not one of tool, resource, prompt, *", r.Kind)
	}
	if r.Name == "" {
		return bad("name", "is required (a name or a glob such as create_* or *)")
	}
	if _, err := path.Match(r.Name, ""); err != nil {
		return bad("name", "%q is not a valid glob: %v", r.Name, err)
	}
	if len(r.Actions) == 0 {
		return bad("actions", "name at least one of list, call, read")
	}
	for _, a := range r.Actions {
		if a != ActList && a != ActCall && a != ActRead {
			return bad("actions", "%q is not one of list, call, read", a)
		}
	}
	switch r.Effect {
	case EffectAllow, EffectDeny, EffectRequireApproval:
	default:
		return bad("effect", "%q is not one of allow, deny, require-approval", r.Effect)
	}
	if r.Effect == EffectRequireApproval && !slices.Contains(r.Actions, ActCall) {
		return bad("effect", "require-approval applies to calls; add call to actions")
	}
	if err := validApprover(r.Effect, r.Approver); err != nil {
		return bad("approver", "%s", err.Error())
	}
	if r.Condition != "" {
		if r.Kind != KindTool || !slices.Equal(r.Actions, []string{ActCall}) {
			return bad("condition", "conditions apply to calls of tools: use kind tool and actions [call]")
		}
		if r.Connector == "*" {
			return bad("condition", "a condition is scoped to one connector; name it")
		}
		c, err := cs.Compile(r.Condition)
		if err != nil {
			re := &RuleError{Field: "condition", Message: err.Error()}
			errors.As(err, &re.Condition)
			return re
		}
		r.cond = c
	}
	return nil
}

// Request is one access question.
type Request struct {
	Subjects  []string // the caller's subjects: user, roles, groups, inherited
	Connector string
	Kind      string
	Name      string
	Action    string
	// Args are the call's arguments (for conditions).
	Args map[string]any
	// SkipConditions is set for connectors with input validation skipped:
	// their conditions do not apply (the rules holding them are ignored).
	SkipConditions bool
}

// Decision answers a Request.
type Decision struct {
	Effect string // allow, deny or require-approval
	// Rule is the deciding rule (nil: nothing allowed it, default deny).
	Rule *Rule
	// Reason explains the decision without naming other rules.
	Reason string
	// ConditionError says why the deciding deny or require-approval
	// rule applied although its condition could not be evaluated as
	// written, for the audit log ("" when it was).
	ConditionError string
	// Version is the version of the rule set that decided (Engine: it
	// grows with every change), so an approval given under one rule set
	// does not apply under another.
	Version uint64
}

// Index holds rules indexed by connector and subject, so a decision looks
// at the rules of the caller's subjects on one connector (and "*"),
// however many rules there are. Build one per rule set; it is read-only.
type Index struct {
	byConn  map[string]map[string][]*Rule // connector → subject → rules
	n       int
	version uint64
}

// NewIndex validates rules (compiling their conditions with cs) and
// indexes them. The first invalid rule is an error naming its position.
func NewIndex(cs *Conditions, rules []Rule) (*Index, error) {
	idx := &Index{byConn: map[string]map[string][]*Rule{}}
	for i := range rules {
		r := rules[i]
		if err := r.Validate(cs); err != nil {
			return nil, fmt.Errorf("rule %d (%s): %w", i, r.ID, err)
		}
		bySubj := idx.byConn[r.Connector]
		if bySubj == nil {
			bySubj = map[string][]*Rule{}
			idx.byConn[r.Connector] = bySubj
		}
		bySubj[r.Subject] = append(bySubj[r.Subject], &r)
		idx.n++
	}
	return idx, nil
}

// Len is the number of rules.
func (idx *Index) Len() int { return idx.n }

// Decide answers req: deny wins, then require-approval, then allow; with
// no allowing rule the answer is deny.
//
// A condition that cannot be evaluated (an argument missing, null or of
// another type than the condition compares it as, or an error) never
// makes the outcome less strict: an allow rule whose condition fails so
// does not apply, and a deny or require-approval rule does apply, the
// decision saying why (ConditionError): "5000" and [5000] are held by
// `args.amount > 1000` like 5000. On a connector whose conditions are skipped
// (input validation off), conditional deny and require-approval rules
// apply unconditionally and conditional allow rules do not.
func (idx *Index) Decide(req Request) Decision {
	d := idx.decide(req)
	d.Version = idx.version
	return d
}

func (idx *Index) decide(req Request) Decision {
	var allow, approval, condRule *Rule
	var condFailed, approvalErr string
	for _, conn := range []string{req.Connector, "*"} {
		bySubj := idx.byConn[conn]
		if bySubj == nil {
			continue
		}
		for _, subj := range append(req.Subjects, "*") {
			for _, r := range bySubj[subj] {
				if r.Kind != req.Kind && r.Kind != KindAny || !slices.Contains(r.Actions, req.Action) || !nameMatches(r.Name, req.Name) {
					continue
				}
				evalErr := ""
				if r.cond != nil {
					strict := r.Effect != EffectAllow
					switch {
					case req.SkipConditions && !strict:
						continue
					case req.SkipConditions:
						evalErr = "conditions are not evaluated on this connector (input validation is skipped)"
					case strict:
						applies, why := strictApplies(r.cond, req.Args)
						if !applies {
							continue
						}
						evalErr = why
					default:
						ok, err := r.cond.Eval(req.Args)
						if !ok {
							if condRule == nil {
								condRule, condFailed = r, "the arguments do not satisfy "+r.Condition
								if err != nil {
									condFailed = err.Error()
								}
							}
							continue
						}
					}
				}
				switch r.Effect {
				case EffectDeny:
					reason := denyReason(r, req)
					if evalErr != "" {
						reason += " (its condition could not be evaluated, so the rule applies: " + evalErr + ")"
					}
					return Decision{Effect: EffectDeny, Rule: r, Reason: reason, ConditionError: evalErr}
				case EffectRequireApproval:
					if approval == nil {
						approval, approvalErr = r, evalErr
					}
				case EffectAllow:
					if allow == nil {
						allow = r
					}
				}
			}
		}
	}
	switch {
	case approval != nil:
		reason := fmt.Sprintf("rule %s requires an approval for %s %s", approval.ID, req.Action, req.Name)
		if approvalErr != "" {
			reason += " (its condition could not be evaluated, so the rule applies: " + approvalErr + ")"
		}
		return Decision{Effect: EffectRequireApproval, Rule: approval, Reason: reason, ConditionError: approvalErr}
	case allow != nil:
		return Decision{Effect: EffectAllow, Rule: allow, Reason: "allowed by rule " + allow.ID}
	case condRule != nil:
		// The first conditional allow (rules are ordered by id) decides.
		return Decision{Effect: EffectDeny, Rule: condRule, Reason: fmt.Sprintf("%s %s on %s is allowed only when the condition of rule %s holds: %s", req.Action, req.Name, req.Connector, condRule.ID, condFailed)}
	}
	return Decision{Effect: EffectDeny, Reason: fmt.Sprintf("no rule allows you to %s %s on %s", req.Action, req.Name, req.Connector)}
}

// strictApplies decides a deny or require-approval rule's condition: it
// applies when it holds for args, when an argument it compares has
// another kind than it compares it as, or when evaluating it fails (why
// says which of the last two).
func strictApplies(c *Condition, args map[string]any) (applies bool, why string) {
	if why := c.mismatch(args); why != "" {
		return true, why
	}
	ok, err := c.Eval(args)
	if err != nil {
		return true, err.Error()
	}
	return ok, ""
}

// nameMatches reports whether a rule's name glob matches name: "*" alone
// matches everything (resource URIs hold slashes), other globs follow
// path.Match.
func nameMatches(pattern, name string) bool {
	if pattern == "*" {
		return true
	}
	ok, _ := path.Match(pattern, name)
	return ok
}

// Grants reports whether any rule for subjects on connector (or on
// every connector) allows something, or holds something for approval:
// whether the connector is of any use to them. A caller granted nothing
// is refused at initialize, and the aggregate endpoint skips the
// connector, instead of opening upstream sessions that can only answer
// empty listings.
func (idx *Index) Grants(subjects []string, connector string) bool {
	for _, conn := range []string{connector, "*"} {
		bySubj := idx.byConn[conn]
		for _, subj := range append(subjects, "*") {
			for _, r := range bySubj[subj] {
				if r.Effect == EffectAllow || r.Effect == EffectRequireApproval {
					return true
				}
			}
		}
	}
	return false
}

func denyReason(r *Rule, req Request) string {
	msg := fmt.Sprintf("rule %s denies %s %s on %s", r.ID, req.Action, req.Name, req.Connector)
	if r.Description != "" {
		msg += ": " + r.Description
	}
	return msg
}
