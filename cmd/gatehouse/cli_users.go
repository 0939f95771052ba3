package main

import (
	"errors"
	"time"

	"github.com/spf13/cobra"
)

// userView is a user as the API shows it, with their roles.
type userView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Disabled  bool      `json:"disabled"`
	Roles     []string  `json:"roles"`
	CreatedAt time.Time `json:"created_at"`
	Version   int64     `json:"version"`
}

func (u userView) fields() []field {
	return []field{
		{"id", u.ID}, {"name", u.Name}, {"email", u.Email}, {"roles", fmtList(u.Roles, "none")},
		{"disabled", fmtBool(u.Disabled)}, {"created", fmtTime(u.CreatedAt)}, {"version", fmtVersion(u.Version)},
	}
}

func newUsersCommand(getenv func(string) string) *cobra.Command {
	cmd, f := newAdminGroup("users", "Manage users and their roles", getenv)
	cmd.AddCommand(newUsersListCommand(f), newUsersGetCommand(f), newUsersCreateCommand(f),
		newUsersUpdateCommand(f), newUsersDeleteCommand(f))
	return cmd
}

func newUsersListCommand(f *adminFlags) *cobra.Command {
	return newListCommand(f, listSpec[userView]{
		use: "list", short: "List users", path: "/users", key: "users",
		header: []string{"ID", "NAME", "EMAIL", "ROLES", "DISABLED"},
		row: func(u userView) []string {
			return []string{u.ID, u.Name, u.Email, fmtList(u.Roles, "-"), fmtBool(u.Disabled)}
		},
	})
}

// printUser prints a user answer.
func printUser(cmd *cobra.Command, f *adminFlags, r apiRequest) error {
	c, pr, err := f.setup(cmd)
	if err != nil {
		return err
	}
	var u userView
	raw, err := c.getJSON(cmd.Context(), r, &u)
	if err != nil {
		return err
	}
	if pr.json {
		return pr.printJSON(raw)
	}
	return pr.fields(u.fields())
}

func newUsersGetCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a user",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return printUser(cmd, f, apiRequest{method: "GET", path: pathOf("users", args[0])})
		},
	}
}

func newUsersCreateCommand(f *adminFlags) *cobra.Command {
	var name, email string
	var roles []string
	cmd := &cobra.Command{
		Use:   "create ID",
		Short: "Create a user",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m := map[string]any{"id": args[0]}
			setIfChanged(cmd, m, "name", "name", name)
			setIfChanged(cmd, m, "email", "email", email)
			setIfChanged(cmd, m, "role", "roles", roles)
			body, err := marshalBody(m)
			if err != nil {
				return err
			}
			return printUser(cmd, f, apiRequest{method: "POST", path: "/users", body: body})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "display name")
	cmd.Flags().StringVar(&email, "email", "", "email address")
	cmd.Flags().StringSliceVar(&roles, "role", nil, "role (repeatable or comma-separated; default member)")
	return cmd
}

func newUsersUpdateCommand(f *adminFlags) *cobra.Command {
	var name, email, ifMatch string
	var roles []string
	var disable, enable bool
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Change a user's roles, name or email, or disable or enable them",
		Long:  "Change a user. --role replaces all of the user's roles (--role \"\" removes them all).",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m := map[string]any{}
			setIfChanged(cmd, m, "name", "name", name)
			setIfChanged(cmd, m, "email", "email", email)
			if cmd.Flags().Changed("role") {
				if roles == nil {
					roles = []string{}
				}
				m["roles"] = roles
			}
			switch {
			case disable:
				m["disabled"] = true
			case enable:
				m["disabled"] = false
			}
			if len(m) == 0 {
				return errors.New("nothing to change: give --role, --disable, --enable, --name or --email")
			}
			body, err := marshalBody(m)
			if err != nil {
				return err
			}
			match, err := ifMatchHeader(ifMatch)
			if err != nil {
				return err
			}
			return printUser(cmd, f, apiRequest{method: "PATCH", path: pathOf("users", args[0]), body: body, ifMatch: match})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "new display name")
	cmd.Flags().StringVar(&email, "email", "", "new email address")
	cmd.Flags().StringSliceVar(&roles, "role", nil, "the user's roles, replacing the current ones (repeatable or comma-separated)")
	cmd.Flags().BoolVar(&disable, "disable", false, "disable the user (their tokens stop working)")
	cmd.Flags().BoolVar(&enable, "enable", false, "enable the user again")
	cmd.Flags().StringVar(&ifMatch, "if-match", "", "only if the user is at this version")
	cmd.MarkFlagsMutuallyExclusive("disable", "enable")
	return cmd
}

func newUsersDeleteCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a user",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			if _, err := c.call(cmd.Context(), apiRequest{method: "DELETE", path: pathOf("users", args[0])}); err != nil {
				return err
			}
			if pr.json {
				return nil
			}
			return pr.line("user %s deleted", args[0])
		},
	}
}

func newWhoamiCommand(getenv func(string) string) *cobra.Command {
	cmd, f := newAdminGroup("whoami", "Show who the token belongs to and their roles", getenv)
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, pr, err := f.setup(cmd)
		if err != nil {
			return err
		}
		var me struct {
			User    string   `json:"user"`
			Roles   []string `json:"roles"`
			TokenID string   `json:"token_id"`
		}
		raw, err := c.getJSON(cmd.Context(), apiRequest{method: "GET", path: "/me"}, &me)
		if err != nil {
			return err
		}
		if pr.json {
			return pr.printJSON(raw)
		}
		return pr.fields([]field{{"user", me.User}, {"roles", fmtList(me.Roles, "none")}, {"token id", me.TokenID}})
	}
	return cmd
}
