package main

import (
	"github.com/spf13/cobra"
)

// newIdentityForwardCommand is `gatehouse identity-forward`: the key ring
// that signs the identity JWTs connectors receive.
func newIdentityForwardCommand(getenv func(string) string) *cobra.Command {
	cmd, f := newAdminGroup("identity-forward", "Manage the keys that sign the identity forwarded to connectors", getenv)
	cmd.AddCommand(&cobra.Command{
		Use:   "rotate-keys",
		Short: "Sign identity JWTs with a new key now (the previous key stays published while tokens it signed may live)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var ans struct {
				KID         string `json:"kid"`
				PreviousKID string `json:"previous_kid"`
				JWKSURL     string `json:"jwks_url"`
			}
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "POST", path: "/identity-forward/keys/rotate"}, &ans)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			return pr.line("signing key %s (was %s); keys published at %s", ans.KID, ans.PreviousKID, ans.JWKSURL)
		},
	})
	return cmd
}
