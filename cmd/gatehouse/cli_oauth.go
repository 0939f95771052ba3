package main

import (
	"bufio"
	"errors"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// newOAuthCommand manages the OAuth authorization server: sign-in
// passwords and pre-registered clients.
func newOAuthCommand(getenv func(string) string) *cobra.Command {
	cmd, f := newAdminGroup("oauth", "Manage OAuth sign-in passwords and pre-registered clients", getenv)
	clients := &cobra.Command{Use: "clients", Short: "Manage pre-registered OAuth clients"}
	clients.AddCommand(newOAuthClientsListCommand(f), newOAuthClientsCreateCommand(f), newOAuthClientsDeleteCommand(f))
	cmd.AddCommand(newOAuthPasswordCommand(f), clients)
	return cmd
}

func newOAuthPasswordCommand(f *adminFlags) *cobra.Command {
	var remove bool
	cmd := &cobra.Command{
		Use:   "password USER",
		Short: "Set a user's sign-in password (read from standard input), or remove it",
		Long: "Set the password USER types on the OAuth sign-in page. The password is read from the first line of\n" +
			"standard input, never from the command line (shell history): printf '%s\\n' \"$PW\" | gatehouse oauth password mia",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			path := pathOf("users", args[0]) + "/password"
			if remove {
				if _, err := c.call(cmd.Context(), apiRequest{method: "DELETE", path: path}); err != nil {
					return err
				}
				return pr.line("password of %s removed", args[0])
			}
			line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				if err != nil {
					return errors.New("no password on standard input")
				}
				return errors.New("the password on standard input is empty")
			}
			body, err := marshalBody(map[string]string{"password": line})
			if err != nil {
				return err
			}
			if _, err := c.call(cmd.Context(), apiRequest{method: "PUT", path: path, body: body}); err != nil {
				return err
			}
			if pr.json {
				return nil
			}
			return pr.line("password of %s set", args[0])
		},
	}
	cmd.Flags().BoolVar(&remove, "delete", false, "remove the password: the user can no longer sign in through OAuth")
	return cmd
}

// oauthClientView is a client as the API shows it.
type oauthClientView struct {
	ID           string    `json:"client_id"`
	Name         string    `json:"client_name"`
	RedirectURIs []string  `json:"redirect_uris"`
	AuthMethod   string    `json:"token_endpoint_auth_method"`
	Source       string    `json:"source"`
	CreatedAt    time.Time `json:"created_at"`
	Secret       string    `json:"client_secret"`
}

func newOAuthClientsListCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List registered OAuth clients (dynamic and pre-registered)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var out struct {
				Items []oauthClientView `json:"items"`
			}
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "GET", path: "/oauth/clients"}, &out)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			rows := make([][]string, 0, len(out.Items))
			for _, it := range out.Items {
				rows = append(rows, []string{it.ID, it.Name, it.Source, it.AuthMethod, strings.Join(it.RedirectURIs, " ")})
			}
			return pr.table([]string{"CLIENT ID", "NAME", "SOURCE", "AUTH", "REDIRECT URIS"}, rows)
		},
	}
}

func newOAuthClientsCreateCommand(f *adminFlags) *cobra.Command {
	var name, appType string
	var redirects []string
	var confidential bool
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Pre-register an OAuth client (a confidential one's secret is shown once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			m := map[string]any{"client_name": name, "redirect_uris": redirects, "confidential": confidential}
			if appType != "" {
				m["application_type"] = appType
			}
			body, err := marshalBody(m)
			if err != nil {
				return err
			}
			var v oauthClientView
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "POST", path: "/oauth/clients", body: body}, &v)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			fs := []field{{"client id", v.ID}, {"name", v.Name}, {"auth", v.AuthMethod}, {"redirect uris", fmtList(v.RedirectURIs, "none")}}
			if v.Secret != "" {
				fs = append(fs, field{"client secret", v.Secret + " (shown once)"})
			}
			return pr.fields(fs)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "client name shown on the consent page")
	cmd.Flags().StringSliceVar(&redirects, "redirect-uri", nil, "redirect URI (repeatable)")
	cmd.Flags().BoolVar(&confidential, "confidential", false, "the client authenticates with a secret")
	cmd.Flags().StringVar(&appType, "application-type", "", "web (default) or native")
	_ = cmd.MarkFlagRequired("redirect-uri")
	return cmd
}

func newOAuthClientsDeleteCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete CLIENT_ID",
		Short: "Delete a registered OAuth client",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			if _, err := c.call(cmd.Context(), apiRequest{method: "DELETE", path: pathOf("oauth", "clients", args[0])}); err != nil {
				return err
			}
			if pr.json {
				return nil
			}
			return pr.line("client %s deleted", args[0])
		},
	}
}
