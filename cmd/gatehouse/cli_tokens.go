package main

import (
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/cobra"
)

// tokenView is an API token's record (never the token itself).
type tokenView struct {
	ID         string     `json:"id"`
	User       string     `json:"user"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Active     bool       `json:"active"`
}

func (t tokenView) fields() []field {
	return []field{
		{"id", t.ID}, {"user", t.User}, {"name", t.Name}, {"prefix", t.Prefix},
		{"created", fmtTime(t.CreatedAt)}, {"expires", fmtTimePtr(t.ExpiresAt, "never")},
		{"revoked", fmtTimePtr(t.RevokedAt, "")}, {"last used", fmtTimePtr(t.LastUsedAt, "never")},
		{"active", yesNo(t.Active)},
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func newTokensCommand(getenv func(string) string) *cobra.Command {
	cmd, f := newAdminGroup("tokens", "Manage API tokens", getenv)
	cmd.AddCommand(newTokensListCommand(f), newTokensCreateCommand(f), newTokensRevokeCommand(f))
	return cmd
}

func newTokensListCommand(f *adminFlags) *cobra.Command {
	var user string
	var allUsers bool
	var pages pageFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List your tokens, a user's, or everyone's",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			q := url.Values{}
			switch {
			case allUsers:
				q.Set("user", "*")
			case user != "":
				q.Set("user", user)
			}
			ans, err := c.list(cmd.Context(), "/tokens", q, "tokens", pages)
			if err != nil {
				return err
			}
			return printList(pr, ans, []string{"ID", "USER", "NAME", "PREFIX", "CREATED", "EXPIRES", "LAST USED", "ACTIVE"},
				func(t tokenView) []string {
					return []string{t.ID, t.User, t.Name, t.Prefix, fmtTime(t.CreatedAt),
						fmtTimePtr(t.ExpiresAt, "never"), fmtTimePtr(t.LastUsedAt, "never"), yesNo(t.Active)}
				})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "this user's tokens (default: yours)")
	cmd.Flags().BoolVar(&allUsers, "all-users", false, "every user's tokens")
	cmd.MarkFlagsMutuallyExclusive("user", "all-users")
	pages.register(cmd)
	return cmd
}

func newTokensCreateCommand(f *adminFlags) *cobra.Command {
	var name, user, expires string
	cmd := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Create an API token (shown once)",
		Long: "Create an API token. The token is printed alone on stdout, so that\n" +
			"`TOKEN=$(gatehouse tokens create --name ci)` captures it; the notice and\n" +
			"the record go to stderr. It cannot be shown again.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m := map[string]string{"name": name}
			if user != "" {
				m["user"] = user
			}
			if expires != "" {
				m["expires"] = expires
			}
			body, err := marshalBody(m)
			if err != nil {
				return err
			}
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var ans struct {
				Token  string    `json:"token"`
				Notice string    `json:"notice"`
				Record tokenView `json:"record"`
			}
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "POST", path: "/tokens", body: body}, &ans)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			if err := pr.line("%s", ans.Token); err != nil {
				return err
			}
			notice := ans.Notice
			if notice == "" {
				notice = "store this token now: it is shown once and cannot be recovered"
			}
			_, err = fmt.Fprintf(pr.errOut, "%s\nid %s, user %s, expires %s\n", notice,
				ans.Record.ID, ans.Record.User, fmtTimePtr(ans.Record.ExpiresAt, "never"))
			return err
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "what the token is for (to tell tokens apart)")
	cmd.Flags().StringVar(&user, "user", "", "whose token (default: yours)")
	cmd.Flags().StringVar(&expires, "expires", "", "90d, 720h, an RFC 3339 time, or never (default 90d)")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func newTokensRevokeCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var t tokenView
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "DELETE", path: pathOf("tokens", args[0])}, &t)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			return pr.fields(t.fields())
		},
	}
}
