package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// requestView is the part of a connector request the CLI shows.
type requestView struct {
	ID        string `json:"id"`
	Requester string `json:"requester"`
	Template  string `json:"template"`
	Manual    *struct {
		Name    string `json:"name"`
		URL     string `json:"url"`
		Command string `json:"command"`
	} `json:"manual"`
	Slug      string     `json:"slug"`
	Reason    string     `json:"reason"`
	Status    string     `json:"status"`
	Note      string     `json:"note"`
	DecidedBy string     `json:"decided_by"`
	DecidedAt *time.Time `json:"decided_at"`
	Connector string     `json:"connector"`
	CreatedAt time.Time  `json:"created_at"`
	Version   int64      `json:"version"`
}

// subject says what is requested, as the server's audit entries do.
func (r requestView) subject() string {
	switch {
	case r.Template != "":
		return "template:" + r.Template
	case r.Manual == nil:
		return ""
	case r.Manual.URL != "":
		return "url:" + r.Manual.URL
	default:
		return "command:" + r.Manual.Command
	}
}

func (r requestView) fields() []field {
	manual := ""
	if r.Manual != nil {
		manual = r.Manual.Name
	}
	return []field{
		{"id", r.ID}, {"requester", r.Requester}, {"subject", r.subject()}, {"manual name", manual},
		{"slug", r.Slug}, {"reason", r.Reason}, {"status", r.Status},
		{"decided by", r.DecidedBy}, {"decided", fmtTimePtr(r.DecidedAt, "")}, {"note", r.Note},
		{"connector", r.Connector}, {"created", fmtTime(r.CreatedAt)}, {"version", fmtVersion(r.Version)},
	}
}

func newRequestsCommand(getenv func(string) string) *cobra.Command {
	cmd, f := newAdminGroup("requests", "Request connectors, and approve or reject requests", getenv)
	cmd.AddCommand(newRequestsListCommand(f), newRequestsShowCommand(f), newRequestsCreateCommand(f),
		newRequestsApproveCommand(f), newRequestsRejectCommand(f))
	return cmd
}

func newRequestsListCommand(f *adminFlags) *cobra.Command {
	return newListCommand(f, listSpec[requestView]{
		use: "list", short: "List connector requests (members see their own)", path: "/requests", key: "requests",
		filters: []listFilter{{"status", "pending, approved or rejected", []string{"pending", "approved", "rejected"}}, {"requester", "only this user's requests", nil}},
		header:  []string{"ID", "REQUESTER", "SUBJECT", "STATUS", "CREATED", "DECIDED BY", "CONNECTOR"},
		row: func(r requestView) []string {
			return []string{r.ID, r.Requester, r.subject(), r.Status, fmtTime(r.CreatedAt), r.DecidedBy, r.Connector}
		},
	})
}

func newRequestsShowCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a connector request",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var r requestView
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "GET", path: pathOf("requests", args[0])}, &r)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			return pr.fields(r.fields())
		},
	}
}

func newRequestsCreateCommand(f *adminFlags) *cobra.Command {
	var template, manualFile, reason, slug string
	cmd := &cobra.Command{
		Use:   "create (--template ID | --manual-file FILE.json) --reason TEXT",
		Short: "Ask for a connector, from the catalog or described by hand",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body := map[string]any{"reason": reason}
			if template != "" {
				body["template"] = template
			}
			if manualFile != "" {
				manual, err := readBodyFile(cmd, manualFile)
				if err != nil {
					return err
				}
				if !json.Valid(manual) {
					return fmt.Errorf("--manual-file %s: not valid JSON", manualFile)
				}
				body["manual"] = json.RawMessage(manual)
			}
			if slug != "" {
				body["slug"] = slug
			}
			data, err := marshalBody(body)
			if err != nil {
				return err
			}
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var r requestView
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "POST", path: "/requests", body: data}, &r)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			return pr.fields(r.fields())
		},
	}
	cmd.Flags().StringVar(&template, "template", "", "catalog template id")
	cmd.Flags().StringVar(&manualFile, "manual-file", "", "JSON connector description (\"-\" for stdin)")
	cmd.Flags().StringVar(&reason, "reason", "", "what you need the connector for")
	cmd.Flags().StringVar(&slug, "slug", "", "slug you would like")
	cmd.MarkFlagsMutuallyExclusive("template", "manual-file")
	cmd.MarkFlagsOneRequired("template", "manual-file")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

// decisionAnswer is the answer to approve and reject.
type decisionAnswer struct {
	Request requestView `json:"request"`
	instanceAnswer
}

func newRequestsApproveCommand(f *adminFlags) *cobra.Command {
	var note, slug, name, token, status string
	var values []string
	cmd := &cobra.Command{
		Use:   "approve ID",
		Short: "Approve a request, creating its connector",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := instanceBody(values, map[string]string{"note": note, "slug": slug, "name": name, "token": token, "status": status})
			if err != nil {
				return err
			}
			return decide(cmd, f, args[0], "approve", body)
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "note to the requester")
	registerInstanceFlags(cmd, &slug, &name, &token, &values)
	cmd.Flags().StringVar(&status, "status", "", "status of the new connector (default active)")
	restrict(cmd, "status", "active", "disabled", "draft")
	return cmd
}

func newRequestsRejectCommand(f *adminFlags) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:   "reject ID --note TEXT",
		Short: "Reject a request, telling the requester why",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := marshalBody(map[string]string{"note": note})
			if err != nil {
				return err
			}
			return decide(cmd, f, args[0], "reject", body)
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why the request is rejected")
	_ = cmd.MarkFlagRequired("note")
	return cmd
}

// decide posts an approve or reject decision and prints the answer.
func decide(cmd *cobra.Command, f *adminFlags, id, verb string, body []byte) error {
	c, pr, err := f.setup(cmd)
	if err != nil {
		return err
	}
	var ans decisionAnswer
	raw, err := c.getJSON(cmd.Context(), apiRequest{method: "POST", path: pathOf("requests", id, verb), body: body}, &ans)
	if err != nil {
		return err
	}
	if pr.json {
		return pr.printJSON(raw)
	}
	if err := pr.fields(ans.Request.fields()); err != nil {
		return err
	}
	if ans.Connector == nil {
		return nil
	}
	if err := pr.line("\nconnector:"); err != nil {
		return err
	}
	return ans.print(pr)
}
