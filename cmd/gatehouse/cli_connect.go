package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// newConnectCommand is `gatehouse connect SLUG`: it asks the gateway for a
// single-use link that connects the caller's own account at the
// connector's OAuth upstream, and prints it alone on stdout (open it in a
// browser; the page names the connector and your user before it goes to
// the upstream's sign-in).
func newConnectCommand(getenv func(string) string) *cobra.Command {
	cmd, f := newAdminGroup("connect SLUG", "Connect your account at a connector's OAuth upstream (prints a link)", getenv)
	cmd.Args = cobra.ExactArgs(1)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, pr, err := f.setup(cmd)
		if err != nil {
			return err
		}
		var ans struct {
			Connector  string    `json:"connector"`
			ConnectURL string    `json:"connect_url"`
			ExpiresAt  time.Time `json:"expires_at"`
		}
		raw, err := c.getJSON(cmd.Context(), apiRequest{method: "POST", path: pathOf("connectors", args[0], "connect")}, &ans)
		if err != nil {
			return err
		}
		if pr.json {
			return pr.printJSON(raw)
		}
		if err := pr.line("%s", ans.ConnectURL); err != nil {
			return err
		}
		_, err = fmt.Fprintf(pr.errOut, "open this link in a browser to connect %s (single use, valid until %s)\n",
			ans.Connector, fmtTime(ans.ExpiresAt))
		return err
	}
	return cmd
}

// newDisconnectCommand is `gatehouse disconnect SLUG`: the caller's
// upstream token is revoked at the upstream and forgotten.
func newDisconnectCommand(getenv func(string) string) *cobra.Command {
	cmd, f := newAdminGroup("disconnect SLUG", "Revoke and forget your token at a connector's OAuth upstream", getenv)
	cmd.Args = cobra.ExactArgs(1)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, pr, err := f.setup(cmd)
		if err != nil {
			return err
		}
		if _, err := c.call(cmd.Context(), apiRequest{method: "DELETE", path: pathOf("connectors", args[0], "connection")}); err != nil {
			return err
		}
		return pr.line("disconnected from %s", args[0])
	}
	return cmd
}
