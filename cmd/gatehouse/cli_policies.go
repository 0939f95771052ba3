package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// policyRuleView is a tool access rule as the API answers it.
type policyRuleView struct {
	ID          string   `json:"id"`
	Subject     string   `json:"subject"`
	Connector   string   `json:"connector"`
	Kind        string   `json:"kind"`
	Name        string   `json:"name"`
	Actions     []string `json:"actions"`
	Effect      string   `json:"effect"`
	Condition   string   `json:"condition"`
	Description string   `json:"description"`
}

func newPoliciesCommand(getenv func(string) string) *cobra.Command {
	cmd, f := newAdminGroup("policies", "Manage tool access rules and ask what they allow", getenv)
	cmd.AddCommand(newPoliciesListCommand(f), newPoliciesPutCommand(f), newPoliciesDeleteCommand(f),
		newPoliciesExportCommand(f), newPoliciesImportCommand(f), newPoliciesDryRunCommand(f))
	return cmd
}

func newPoliciesListCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List tool access rules", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var out struct {
				Rules []policyRuleView `json:"rules"`
			}
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "GET", path: "/policies/rules"}, &out)
			if err != nil || pr.json {
				if err != nil {
					return err
				}
				return pr.printJSON(raw)
			}
			rows := make([][]string, len(out.Rules))
			for i, r := range out.Rules {
				rows[i] = []string{r.ID, r.Subject, r.Connector, r.Kind + ":" + r.Name, strings.Join(r.Actions, ","), r.Effect, r.Condition}
			}
			return pr.table([]string{"ID", "SUBJECT", "CONNECTOR", "OBJECT", "ACTIONS", "EFFECT", "CONDITION"}, rows)
		},
	}
}

func newPoliciesPutCommand(f *adminFlags) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use: "put ID --file RULE.json", Short: "Create or replace a rule", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := readBodyFile(cmd, file)
			if err != nil {
				return err
			}
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var out struct {
				Warnings []string `json:"warnings"`
			}
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "PUT", path: pathOf("policies", "rules", args[0]), body: body}, &out)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			for _, w := range out.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			return pr.line("rule %s stored", args[0])
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "JSON rule to send as is (\"-\" for stdin)")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

func newPoliciesDeleteCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use: "delete ID", Short: "Delete a rule", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			if _, err := c.call(cmd.Context(), apiRequest{method: "DELETE", path: pathOf("policies", "rules", args[0])}); err != nil {
				return err
			}
			return pr.line("rule %s deleted", args[0])
		},
	}
}

func newPoliciesExportCommand(f *adminFlags) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use: "export [-o FILE]", Short: "Export every rule as a file import takes back", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := f.setup(cmd)
			if err != nil {
				return err
			}
			raw, err := c.call(cmd.Context(), apiRequest{method: "GET", path: "/policies/export"})
			if err != nil {
				return err
			}
			if out == "" {
				_, err = cmd.OutOrStdout().Write(append(raw, '\n'))
				return err
			}
			return os.WriteFile(out, raw, 0o600)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of stdout")
	return cmd
}

func newPoliciesImportCommand(f *adminFlags) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use: "import --file POLICIES.json", Short: "Replace every rule (all validated first)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body, err := readBodyFile(cmd, file)
			if err != nil {
				return err
			}
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var out struct {
				Imported int      `json:"imported"`
				Warnings []string `json:"warnings"`
			}
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "POST", path: "/policies/import", body: body}, &out)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			for _, w := range out.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			return pr.line("%d rules imported", out.Imported)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "policies file (from export; \"-\" for stdin)")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

func newPoliciesDryRunCommand(f *adminFlags) *cobra.Command {
	var user, conn, tool, action, args string
	cmd := &cobra.Command{
		Use: "dry-run --user U --connector C --tool T [--args JSON]", Short: "May user U call tool T with these arguments?", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var arguments map[string]any
			if args != "" {
				if err := json.Unmarshal([]byte(args), &arguments); err != nil {
					return fmt.Errorf("--args is not a JSON object: %w", err)
				}
			}
			body, _ := json.Marshal(map[string]any{"user": user, "connector": conn, "name": tool, "action": action, "arguments": arguments})
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var out struct {
				Effect, Rule, Reason string
			}
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "POST", path: "/policies/dry-run", body: body}, &out)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			return pr.line("%s (rule %s): %s", out.Effect, orDash(out.Rule), out.Reason)
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "the user asking")
	cmd.Flags().StringVar(&conn, "connector", "", "the connector's slug")
	cmd.Flags().StringVar(&tool, "tool", "", "the tool's name")
	cmd.Flags().StringVar(&action, "action", "call", "list or call")
	cmd.Flags().StringVar(&args, "args", "", "the call's arguments, as a JSON object")
	for _, name := range []string{"user", "connector", "tool"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
