package main

import (
	"bytes"
	"encoding/json"
	"net/url"
	"time"

	"github.com/spf13/cobra"
)

// approvalView is a held tool call as the API answers it.
type approvalView struct {
	ID        string          `json:"id"`
	User      string          `json:"user"`
	Connector string          `json:"connector"`
	Tool      string          `json:"tool"`
	Arguments json.RawMessage `json:"arguments"`
	Rule      string          `json:"rule"`
	Approver  string          `json:"approver"`
	UsedAt    *time.Time      `json:"used_at"`
	Status    string          `json:"status"`
	CreatedAt time.Time       `json:"created_at"`
	ExpiresAt time.Time       `json:"expires_at"`
	DecidedBy string          `json:"decided_by"`
	DecidedAt *time.Time      `json:"decided_at"`
	Via       string          `json:"via"`
	Note      string          `json:"note"`
	Sensitive bool            `json:"sensitive"`
}

func (a approvalView) fields() []field {
	var args bytes.Buffer
	if len(a.Arguments) > 0 && json.Compact(&args, a.Arguments) != nil {
		args.Reset()
		args.Write(a.Arguments)
	}
	return []field{
		{"id", a.ID}, {"user", a.User}, {"connector", a.Connector}, {"tool", a.Tool}, {"arguments", args.String()},
		{"rule", a.Rule}, {"approver", a.Approver}, {"status", a.Status}, {"created", fmtTime(a.CreatedAt)}, {"expires", fmtTime(a.ExpiresAt)},
		{"decided by", a.DecidedBy}, {"decided", fmtTimePtr(a.DecidedAt, "")}, {"via", a.Via}, {"note", a.Note}, {"used", fmtTimePtr(a.UsedAt, "")},
		{"sensitive", fmtBool(a.Sensitive)},
	}
}

func newApprovalsCommand(getenv func(string) string) *cobra.Command {
	cmd, f := newAdminGroup("approvals", "See and decide the tool calls require-approval rules hold", getenv)
	cmd.AddCommand(newApprovalsListCommand(f), newApprovalsShowCommand(f),
		newApprovalsDecideCommand(f, "approve", "Approve a held call: it goes on to the upstream"),
		newApprovalsDecideCommand(f, "deny", "Deny a held call: its caller gets an error"))
	return cmd
}

func newApprovalsListCommand(f *adminFlags) *cobra.Command {
	var status string
	cmd := &cobra.Command{
		Use: "list [--status S]", Short: "List pending and recently decided approvals, newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var q url.Values
			if status != "" {
				q = url.Values{"status": {status}}
			}
			var out struct {
				Approvals []approvalView `json:"approvals"`
			}
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "GET", path: "/approvals", query: q}, &out)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			rows := make([][]string, len(out.Approvals))
			for i, a := range out.Approvals {
				rows[i] = []string{a.ID, a.User, a.Connector, a.Tool, a.Rule, a.Status, fmtTime(a.CreatedAt), a.DecidedBy}
			}
			return pr.table([]string{"ID", "USER", "CONNECTOR", "TOOL", "RULE", "STATUS", "CREATED", "DECIDED BY"}, rows)
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "pending, approved, denied, expired or abandoned")
	restrict(cmd, "status", "pending", "approved", "denied", "expired", "abandoned")
	return cmd
}

// printApproval sends r and prints the approval it answers.
func printApproval(cmd *cobra.Command, f *adminFlags, r apiRequest) error {
	c, pr, err := f.setup(cmd)
	if err != nil {
		return err
	}
	var a approvalView
	raw, err := c.getJSON(cmd.Context(), r, &a)
	if err != nil {
		return err
	}
	if pr.json {
		return pr.printJSON(raw)
	}
	return pr.fields(a.fields())
}

func newApprovalsShowCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use: "show ID", Short: "Show an approval, with the call's arguments", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return printApproval(cmd, f, apiRequest{method: "GET", path: pathOf("approvals", args[0])})
		},
	}
}

// newApprovalsDecideCommand builds approve or deny (verb), both a POST to
// /approvals/{id}/{verb} with an optional note.
func newApprovalsDecideCommand(f *adminFlags, verb, short string) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use: verb + " ID [--note TEXT]", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m := map[string]any{}
			setIfChanged(cmd, m, "note", "note", note)
			body, err := marshalBody(m)
			if err != nil {
				return err
			}
			return printApproval(cmd, f, apiRequest{method: "POST", path: pathOf("approvals", args[0], verb), body: body})
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why; kept with the decision and in the audit log")
	return cmd
}
