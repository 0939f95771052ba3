package policy

import (
	"errors"
	"fmt"
	"strings"
)

// Approvers of a require-approval rule: who may approve a call it holds.
// Nobody ever approves their own call unless the rule says ApproverCaller.
const (
	// ApproverCaller: the calling user approves (through an elicitation
	// answer); an admin or owner may still decide through the admin API.
	ApproverCaller = "caller"
	// ApproverAdmin: an admin or owner other than the caller, through the
	// admin API. The default, also for stored rules that predate the field.
	ApproverAdmin = "admin"
	// ApproverRolePrefix starts "role:<name>": a holder of that role
	// (directly, through a group or inherited) other than the caller,
	// through the admin API.
	ApproverRolePrefix = "role:"
)

// Defaults fills in what a rule may leave out: the approver of a
// require-approval rule is ApproverAdmin unless it names one.
func (r *Rule) Defaults() {
	if r.Effect == EffectRequireApproval && r.Approver == "" {
		r.Approver = ApproverAdmin
	}
}

// ApproverRole is the role an approver names ("" for ApproverCaller):
// ApproverAdmin is the role admin (owners approve as well, see
// MayApprove), "role:<name>" is name.
func ApproverRole(approver string) string {
	if approver == ApproverAdmin {
		return "admin"
	}
	return strings.TrimPrefix(approver, ApproverRolePrefix)
}

// MayApprove reports whether a decider holding roles (inherited ones
// included) may approve for approver. Whether the decider is the caller
// is the registry's question, not this one.
func MayApprove(approver string, roles []string) bool {
	for _, r := range roles {
		switch {
		case r == "owner" && (approver == ApproverAdmin || approver == ApproverCaller):
			return true
		case r == "admin" && (approver == ApproverAdmin || approver == ApproverCaller):
			return true
		case strings.HasPrefix(approver, ApproverRolePrefix) && r == ApproverRole(approver):
			return true
		}
	}
	return false
}

func validApprover(effect, approver string) error {
	if effect != EffectRequireApproval {
		if approver != "" {
			return errors.New("applies to require-approval rules only; remove it or use effect require-approval")
		}
		return nil
	}
	switch {
	case approver == ApproverCaller, approver == ApproverAdmin:
		return nil
	case strings.HasPrefix(approver, ApproverRolePrefix) && ValidRoleName(strings.TrimPrefix(approver, ApproverRolePrefix)):
		return nil
	}
	return fmt.Errorf("%q is not caller, admin or role:<name>", approver)
}
