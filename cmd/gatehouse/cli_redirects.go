package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-mcp/gatehouse/core/auth/redirect"
)

// redirectRuleView is a redirect-URI rule as the API answers it.
type redirectRuleView struct {
	ID        string    `json:"id"`
	List      string    `json:"list"`
	URI       string    `json:"uri"`
	Note      string    `json:"note"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	Approval  string    `json:"approval"`
}

func (r redirectRuleView) fields() []field {
	return []field{{"id", r.ID}, {"list", r.List}, {"uri", r.URI}, {"note", r.Note},
		{"created by", r.CreatedBy}, {"created", fmtTime(r.CreatedAt)}, {"approval", r.Approval}}
}

// pendingRedirectView is a pending redirect URI as the API answers it.
type pendingRedirectView struct {
	ID     string `json:"id"`
	URI    string `json:"uri"`
	Raw    string `json:"raw"`
	Askers []struct {
		ClientID   string `json:"client_id"`
		ClientName string `json:"client_name"`
		User       string `json:"user"`
		Source     string `json:"source"`
	} `json:"askers"`
	Count   int       `json:"count"`
	FirstAt time.Time `json:"first_at"`
	LastAt  time.Time `json:"last_at"`
}

// askedBy names the first requester ("client (user)") and how many more.
func (p pendingRedirectView) askedBy() string {
	if len(p.Askers) == 0 {
		return ""
	}
	a := p.Askers[0]
	who := a.ClientName
	if who == "" {
		who = a.ClientID
	}
	if a.User != "" {
		who += " (" + a.User + ")"
	}
	if len(p.Askers) > 1 {
		who += fmt.Sprintf(" +%d", len(p.Askers)-1)
	}
	return who
}

func newRedirectsCommand(getenv func(string) string) *cobra.Command {
	cmd, f := newAdminGroup("redirects", "Manage the OAuth redirect-URI rules and approve or deny the URIs waiting", getenv)
	cmd.AddCommand(newRedirectsListCommand(f),
		newRedirectsAddCommand(f, "allow", redirect.ListAllowed, "Allow a redirect URI or wildcard host pattern (https://*.example.com/cb)"),
		newRedirectsAddCommand(f, "block", redirect.ListBlocked, "Block a redirect URI or wildcard host pattern: blocking always wins"),
		newRedirectsRemoveCommand(f), newRedirectsCheckCommand(f), newRedirectsPendingCommand(f),
		newRedirectsDecideCommand(f, "approve", "Approve a pending redirect URI: it joins the allowed list"),
		newRedirectsDecideCommand(f, "deny", "Deny a pending redirect URI: it joins the blocked list"))
	return cmd
}

func newRedirectsListCommand(f *adminFlags) *cobra.Command {
	var list string
	cmd := &cobra.Command{
		Use: "list [--list allowed|blocked]", Short: "List the redirect-URI rules", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var q url.Values
			if list != "" {
				q = url.Values{"list": {list}}
			}
			var out struct {
				Rules []redirectRuleView `json:"rules"`
			}
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "GET", path: "/redirects", query: q}, &out)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			rows := make([][]string, len(out.Rules))
			for i, r := range out.Rules {
				rows[i] = []string{r.ID, r.List, r.URI, r.CreatedBy, fmtTime(r.CreatedAt), r.Note}
			}
			return pr.table([]string{"ID", "LIST", "URI", "BY", "CREATED", "NOTE"}, rows)
		},
	}
	cmd.Flags().StringVar(&list, "list", "", "allowed or blocked")
	restrict(cmd, "list", redirect.ListAllowed, redirect.ListBlocked)
	return cmd
}

// newRedirectsAddCommand builds allow and block: a POST to /redirects.
func newRedirectsAddCommand(f *adminFlags, verb, list, short string) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use: verb + " URI [--note TEXT]", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			m := map[string]any{"list": list, "uri": args[0]}
			setIfChanged(cmd, m, "note", "note", note)
			body, err := marshalBody(m)
			if err != nil {
				return err
			}
			var out struct {
				Rule     redirectRuleView `json:"rule"`
				Resolved []string         `json:"resolved"`
			}
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "POST", path: "/redirects", body: body}, &out)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			return pr.fields(append(out.Rule.fields(), field{"resolved", strings.Join(out.Resolved, ", ")}))
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why; kept with the rule")
	return cmd
}

// newRedirectsRemoveCommand removes a rule by id, or by its URI: the URI
// is normalised as the gateway does (the same package) and looked up.
func newRedirectsRemoveCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use: "remove ID|URI", Short: "Remove a redirect-URI rule, named by its id or its URI", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			id := args[0]
			if strings.Contains(id, ":") {
				p, err := redirect.ParsePattern(id)
				if err != nil {
					return fmt.Errorf("no rule can be %s: %w", id, err)
				}
				var out struct {
					Rules []redirectRuleView `json:"rules"`
				}
				if _, err := c.getJSON(cmd.Context(), apiRequest{method: "GET", path: "/redirects"}, &out); err != nil {
					return err
				}
				id = ""
				for _, r := range out.Rules {
					if r.URI == p.Text {
						id = r.ID
					}
				}
				if id == "" {
					return fmt.Errorf("no redirect rule is %s (see gatehouse redirects list)", p.Text)
				}
			}
			var rule redirectRuleView
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "DELETE", path: pathOf("redirects", id)}, &rule)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			return pr.line("removed %s from the %s list (%s)", rule.URI, rule.List, rule.ID)
		},
	}
}

func newRedirectsCheckCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use: "check URI", Short: "Say what a redirect URI would get, without creating an approval", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			body, err := marshalBody(map[string]any{"uri": args[0]})
			if err != nil {
				return err
			}
			var out struct {
				Outcome, URI, Rule, Class, Reason string
			}
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "POST", path: "/redirects/check", body: body}, &out)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			return pr.fields([]field{{"outcome", out.Outcome}, {"uri", out.URI}, {"rule", out.Rule}, {"class", out.Class}, {"reason", out.Reason}})
		},
	}
}

func newRedirectsPendingCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use: "pending", Short: "List the redirect URIs waiting for an admin, oldest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var out struct {
				Pending []pendingRedirectView `json:"pending"`
			}
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "GET", path: "/redirects/pending"}, &out)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			rows := make([][]string, len(out.Pending))
			for i, p := range out.Pending {
				rows[i] = []string{p.ID, p.URI, p.askedBy(), strconv.Itoa(p.Count), fmtTime(p.FirstAt)}
			}
			return pr.table([]string{"ID", "URI", "ASKED BY", "COUNT", "FIRST"}, rows)
		},
	}
}

// newRedirectsDecideCommand builds approve and deny: a POST to
// /redirects/pending/{id}/{verb} with an optional note.
func newRedirectsDecideCommand(f *adminFlags, verb, short string) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use: verb + " ID [--note TEXT]", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			m := map[string]any{}
			setIfChanged(cmd, m, "note", "note", note)
			body, err := marshalBody(m)
			if err != nil {
				return err
			}
			var rule redirectRuleView
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "POST", path: pathOf("redirects", "pending", args[0], verb), body: body}, &rule)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			return pr.fields(rule.fields())
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why; kept with the rule and in the audit log")
	return cmd
}
