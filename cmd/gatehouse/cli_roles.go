package main

import (
	"github.com/spf13/cobra"
)

// The groups and roles commands: who holds which role beyond their own
// bindings (users is in cli_users.go).

// groupView is a group as the API answers it.
type groupView struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
	Roles   []string `json:"roles"`
}

func (g groupView) fields() []field {
	return []field{{"name", g.Name}, {"members", fmtList(g.Members, "none")}, {"roles", fmtList(g.Roles, "none")}}
}

func newGroupsCommand(getenv func(string) string) *cobra.Command {
	cmd, f := newAdminGroup("groups", "Manage groups: users holding roles together", getenv)
	cmd.AddCommand(newGroupsListCommand(f), newGroupsShowCommand(f), newGroupsPutCommand(f), newGroupsDeleteCommand(f))
	return cmd
}

func newGroupsListCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List groups", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var out struct {
				Groups []groupView `json:"groups"`
			}
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "GET", path: "/groups"}, &out)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			rows := make([][]string, len(out.Groups))
			for i, g := range out.Groups {
				rows[i] = []string{g.Name, fmtList(g.Members, "-"), fmtList(g.Roles, "-")}
			}
			return pr.table([]string{"NAME", "MEMBERS", "ROLES"}, rows)
		},
	}
}

// printGroup sends r and prints the group it answers.
func printGroup(cmd *cobra.Command, f *adminFlags, r apiRequest) error {
	c, pr, err := f.setup(cmd)
	if err != nil {
		return err
	}
	var g groupView
	raw, err := c.getJSON(cmd.Context(), r, &g)
	if err != nil {
		return err
	}
	if pr.json {
		return pr.printJSON(raw)
	}
	return pr.fields(g.fields())
}

func newGroupsShowCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use: "show NAME", Short: "Show a group's members and roles", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return printGroup(cmd, f, apiRequest{method: "GET", path: pathOf("groups", args[0])})
		},
	}
}

func newGroupsPutCommand(f *adminFlags) *cobra.Command {
	var members, roles []string
	cmd := &cobra.Command{
		Use:   "put NAME --member USER... --role ROLE...",
		Short: "Create a group or replace its members and roles",
		Long:  "Create a group, or replace its members and roles: the group holds exactly the --member and --role values given.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := marshalBody(map[string][]string{"members": orEmpty(members), "roles": orEmpty(roles)})
			if err != nil {
				return err
			}
			return printGroup(cmd, f, apiRequest{method: "PUT", path: pathOf("groups", args[0]), body: body})
		},
	}
	cmd.Flags().StringSliceVar(&members, "member", nil, "user id of a member (repeatable or comma-separated)")
	cmd.Flags().StringSliceVar(&roles, "role", nil, "role the members hold (repeatable or comma-separated)")
	cmd.MarkFlagsOneRequired("member", "role")
	return cmd
}

func newGroupsDeleteCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use: "delete NAME", Short: "Delete a group (its members keep their own roles)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			if _, err := c.call(cmd.Context(), apiRequest{method: "DELETE", path: pathOf("groups", args[0])}); err != nil {
				return err
			}
			if pr.json {
				return nil
			}
			return pr.line("group %s deleted", args[0])
		},
	}
}

// roleView is a role and what it inherits.
type roleView struct {
	Role     string   `json:"role"`
	Inherits []string `json:"inherits"`
}

func newRolesCommand(getenv func(string) string) *cobra.Command {
	cmd, f := newAdminGroup("roles", "List, create and delete roles and set what they inherit", getenv)
	cmd.AddCommand(newRolesListCommand(f), newRolesShowCommand(f), newRolesCreateCommand(f), newRolesDeleteCommand(f),
		newRolesInheritCommand(f))
	return cmd
}

func newRolesListCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List the known roles", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var out struct {
				Roles []string `json:"roles"`
			}
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "GET", path: "/roles"}, &out)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			rows := make([][]string, len(out.Roles))
			for i, r := range out.Roles {
				rows[i] = []string{r}
			}
			return pr.table([]string{"ROLE"}, rows)
		},
	}
}

// printRole sends r and prints the role it answers.
func printRole(cmd *cobra.Command, f *adminFlags, r apiRequest) error {
	c, pr, err := f.setup(cmd)
	if err != nil {
		return err
	}
	var v roleView
	raw, err := c.getJSON(cmd.Context(), r, &v)
	if err != nil {
		return err
	}
	if pr.json {
		return pr.printJSON(raw)
	}
	return pr.fields([]field{{"role", v.Role}, {"inherits", fmtList(v.Inherits, "none")}})
}

func newRolesShowCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use: "show ROLE", Short: "Show what a role inherits", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return printRole(cmd, f, apiRequest{method: "GET", path: pathOf("roles", args[0])})
		},
	}
}

func newRolesCreateCommand(f *adminFlags) *cobra.Command {
	var parents []string
	cmd := &cobra.Command{
		Use:   "create NAME [--inherit ROLE...]",
		Short: "Create a custom role",
		Long: "Create a custom role for tool rules to name (role:NAME) and users and groups to hold.\n" +
			"It grants nothing in the admin API by itself: its holders get what it inherits (--inherit)\n" +
			"and what tool rules grant it. Inheriting owner needs the owner role.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := marshalBody(struct {
				Name     string   `json:"name"`
				Inherits []string `json:"inherits,omitempty"`
			}{args[0], parents})
			if err != nil {
				return err
			}
			return printRole(cmd, f, apiRequest{method: "POST", path: "/roles", body: body})
		},
	}
	cmd.Flags().StringSliceVar(&parents, "inherit", nil, "role the new role inherits (repeatable or comma-separated)")
	return cmd
}

func newRolesDeleteCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a custom role (its holders lose it; built-in roles stay)",
		Long: "Delete a custom role: users and groups holding it lose it, and roles inheriting it no longer do.\n" +
			"Tool rules naming it are kept (they match nobody). Built-in roles cannot be deleted.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			if _, err := c.call(cmd.Context(), apiRequest{method: "DELETE", path: pathOf("roles", args[0])}); err != nil {
				return err
			}
			if pr.json {
				return nil
			}
			return pr.line("role %s deleted", args[0])
		},
	}
}

func newRolesInheritCommand(f *adminFlags) *cobra.Command {
	var parents []string
	cmd := &cobra.Command{
		Use:   "inherit ROLE --from PARENT...",
		Short: "Set the roles a role inherits",
		Long: "Set the roles ROLE inherits, replacing the current ones: a holder of ROLE holds them too.\n" +
			"--from \"\" removes them all. Making a role inherit owner needs the owner role.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := marshalBody(map[string][]string{"inherits": orEmpty(parents)})
			if err != nil {
				return err
			}
			return printRole(cmd, f, apiRequest{method: "PUT", path: pathOf("roles", args[0]), body: body})
		},
	}
	cmd.Flags().StringSliceVar(&parents, "from", nil, "role to inherit (repeatable or comma-separated)")
	_ = cmd.MarkFlagRequired("from")
	return cmd
}

// orEmpty sends an absent list flag as [] rather than null.
func orEmpty(vs []string) []string {
	if vs == nil {
		return []string{}
	}
	return vs
}
