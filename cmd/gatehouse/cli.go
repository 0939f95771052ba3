package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
)

// The admin CLI: one cobra command group per admin API resource, each
// talking to a running gateway over HTTP. Connection and output settings
// are persistent flags on every group, so `gatehouse users --json list`
// and `gatehouse users list --json` both work.

// defaultServer is the gateway the CLI talks to when neither --server nor
// GATEHOUSE_URL says otherwise: `gatehouse serve`'s default listen address.
const defaultServer = "http://127.0.0.1:8080"

// newAdminCommands returns the admin command groups. getenv supplies
// GATEHOUSE_URL and GATEHOUSE_TOKEN (os.Getenv in main, a map in tests).
func newAdminCommands(getenv func(string) string) []*cobra.Command {
	return []*cobra.Command{
		newConnectorsCommand(getenv),
		newCatalogCommand(getenv),
		newRequestsCommand(getenv),
		newUsersCommand(getenv),
		newGroupsCommand(getenv),
		newRolesCommand(getenv),
		newWhoamiCommand(getenv),
		newTokensCommand(getenv),
		newAuditCommand(getenv),
		newAnalyticsCommand(getenv),
		newPoliciesCommand(getenv),
		newApprovalsCommand(getenv),
		newConnectCommand(getenv),
		newDisconnectCommand(getenv),
		newRedirectsCommand(getenv),
		newOAuthCommand(getenv),
		newIdentityForwardCommand(getenv),
		newPluginsCommand(getenv),
	}
}

// adminFlags are the connection and output settings every admin command
// shares. One value per command group: nothing is package-level.
type adminFlags struct {
	getenv func(string) string
	server string
	token  string
	json   bool
}

// newAdminGroup returns a command carrying the shared persistent flags,
// and the flags it binds.
func newAdminGroup(use, short string, getenv func(string) string) (*cobra.Command, *adminFlags) {
	f := &adminFlags{getenv: getenv}
	cmd := &cobra.Command{Use: use, Short: short, RunE: groupRunE}
	server := getenv("GATEHOUSE_URL")
	if server == "" {
		server = defaultServer
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.server, "server", server, "gateway base URL (env GATEHOUSE_URL)")
	// The default is resolved at run time, not shown as the flag default,
	// so --help never prints the token.
	pf.StringVar(&f.token, "token", "", "admin API token (default: env GATEHOUSE_TOKEN)")
	pf.BoolVar(&f.json, "json", false, "print the API's JSON answer")
	return cmd, f
}

// groupRunE serves a command group run without a subcommand: its help,
// or, for a word that names no subcommand, an error (exit 1) rather than
// the help with exit 0, so a mistyped command in a script fails.
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unknown command %q for %q; run '%s --help' for its commands", args[0], cmd.CommandPath(), cmd.CommandPath())
	}
	return cmd.Help()
}

// client builds the HTTP client for the chosen gateway and token.
func (f *adminFlags) client() (*adminClient, error) {
	base := strings.TrimRight(f.server, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--server %q is not an http(s) URL", f.server)
	}
	token := f.token
	if token == "" {
		token = f.getenv("GATEHOUSE_TOKEN")
	}
	return newAdminClient(base, token), nil
}

// setup returns the client and the printer for cmd's output.
func (f *adminFlags) setup(cmd *cobra.Command) (*adminClient, *printer, error) {
	c, err := f.client()
	if err != nil {
		return nil, nil, err
	}
	return c, &printer{out: cmd.OutOrStdout(), errOut: cmd.ErrOrStderr(), json: f.json}, nil
}
