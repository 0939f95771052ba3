package main

import (
	"errors"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// connectorView is the part of the API's connector the CLI shows.
type connectorView struct {
	Slug        string            `json:"slug"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Transport   string            `json:"transport"`
	URL         string            `json:"url"`
	Command     string            `json:"command"`
	Args        []string          `json:"args"`
	Env         map[string]string `json:"env"`
	Headers     map[string]string `json:"headers"`
	Auth        struct {
		Kind string `json:"kind"`
	} `json:"auth"`
	TokenSet     bool      `json:"auth_token_set"`
	Hosting      string    `json:"hosting"`
	Template     string    `json:"template"`
	Status       string    `json:"status"`
	Owner        string    `json:"owner"`
	Placeholders []string  `json:"placeholders"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	Version      int64     `json:"version"`
}

// target is where the connector reaches its upstream.
func (c connectorView) target() string {
	if c.URL != "" {
		return c.URL
	}
	return strings.TrimSpace(c.Command + " " + strings.Join(c.Args, " "))
}

func (c connectorView) fields() []field {
	return []field{
		{"slug", c.Slug}, {"name", c.Name}, {"description", c.Description},
		{"status", c.Status}, {"transport", c.Transport}, {"hosting", c.Hosting},
		{"url", c.URL}, {"command", c.Command}, {"args", strings.Join(c.Args, " ")},
		{"env", fmtMap(c.Env)}, {"headers", fmtMap(c.Headers)},
		{"auth", c.Auth.Kind}, {"auth token set", fmtBool(c.TokenSet)},
		{"placeholders", fmtList(c.Placeholders, "")},
		{"template", c.Template}, {"owner", c.Owner},
		{"created", fmtTime(c.CreatedAt)}, {"updated", fmtTime(c.UpdatedAt)},
		{"version", fmtVersion(c.Version)},
	}
}

// printConnector prints a connector answer.
func printConnector(pr *printer, raw []byte, c connectorView) error {
	if pr.json {
		return pr.printJSON(raw)
	}
	return pr.fields(c.fields())
}

func newConnectorsCommand(getenv func(string) string) *cobra.Command {
	cmd, f := newAdminGroup("connectors", "Manage connectors (upstream MCP servers)", getenv)
	cmd.AddCommand(
		newConnectorsListCommand(f), newConnectorsGetCommand(f), newConnectorsCreateCommand(f),
		newConnectorsUpdateCommand(f), newConnectorsDeleteCommand(f), newConnectorsSetupCommand(f),
		newConnectorsCredentialsCommand(f),
	)
	return cmd
}

func newConnectorsListCommand(f *adminFlags) *cobra.Command {
	return newListCommand(f, listSpec[connectorView]{
		use: "list", short: "List connectors", path: "/connectors", key: "connectors",
		filters: []listFilter{
			{"query", "search names, slugs and descriptions", nil},
			{"status", "only this status: active, disabled, draft", []string{"active", "disabled", "draft"}},
			{"transport", "only this transport: streamable-http, sse, stdio", []string{"streamable-http", "sse", "stdio"}},
			{"hosting", "only this hosting: hosted, local", []string{"hosted", "local"}},
		},
		header: []string{"SLUG", "NAME", "STATUS", "TRANSPORT", "HOSTING", "TARGET"},
		row: func(c connectorView) []string {
			return []string{c.Slug, c.Name, c.Status, c.Transport, c.Hosting, c.target()}
		},
	})
}

func newConnectorsGetCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get SLUG",
		Short: "Show a connector",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var v connectorView
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "GET", path: pathOf("connectors", args[0])}, &v)
			if err != nil {
				return err
			}
			return printConnector(pr, raw, v)
		},
	}
}

func newConnectorsCreateCommand(f *adminFlags) *cobra.Command {
	var file, name, slug, transport, rawURL, command, status, authKind, authToken string
	var args, env, headers []string
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a connector from --file or from flags",
		Long: "Create a connector. --file sends a JSON connector as is (\"-\" reads stdin);\n" +
			"otherwise the flags build one. New connectors are drafts unless --status says otherwise.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var body []byte
			var err error
			if file != "" {
				if changedAny(cmd, "name", "slug", "transport", "url", "command", "arg", "env", "header", "status", "auth-kind", "auth-token") {
					return errors.New("give either --file or the connector flags, not both")
				}
				if body, err = readBodyFile(cmd, file); err != nil {
					return err
				}
			} else {
				m := map[string]any{}
				for flag, v := range map[string]string{"name": name, "slug": slug, "transport": transport, "url": rawURL, "command": command, "status": status} {
					setIfChanged(cmd, m, flag, flag, v)
				}
				setIfChanged(cmd, m, "arg", "args", args)
				envMap, err := parseKV(env, "env")
				if err != nil {
					return err
				}
				headerMap, err := parseKV(headers, "header")
				if err != nil {
					return err
				}
				if envMap != nil {
					m["env"] = envMap
				}
				if headerMap != nil {
					m["headers"] = headerMap
				}
				if changedAny(cmd, "auth-kind", "auth-token") {
					if authKind == "" && authToken != "" {
						authKind = "bearer" // a static token only goes with bearer auth
					}
					m["auth"] = map[string]string{"kind": authKind, "token": authToken}
				}
				if len(m) == 0 {
					return errors.New("give --file or the connector flags (at least --name)")
				}
				if body, err = marshalBody(m); err != nil {
					return err
				}
			}
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var v connectorView
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "POST", path: "/connectors", body: body}, &v)
			if err != nil {
				return err
			}
			return printConnector(pr, raw, v)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&file, "file", "f", "", "JSON connector to send as is (\"-\" for stdin)")
	fl.StringVar(&name, "name", "", "display name")
	fl.StringVar(&slug, "slug", "", "slug (default: derived from the name)")
	fl.StringVar(&transport, "transport", "", "streamable-http (default), sse or stdio")
	fl.StringVar(&rawURL, "url", "", "upstream URL (HTTP transports)")
	fl.StringVar(&command, "command", "", "command to start (stdio)")
	fl.StringArrayVar(&args, "arg", nil, "command argument (repeatable)")
	fl.StringArrayVar(&env, "env", nil, "environment variable K=V (repeatable)")
	fl.StringArrayVar(&headers, "header", nil, "upstream header K=V (repeatable; values may hold {PLACEHOLDER}s)")
	fl.StringVar(&status, "status", "", "active, disabled or draft (default draft)")
	restrict(cmd, "status", "active", "disabled", "draft")
	restrict(cmd, "transport", "streamable-http", "sse", "stdio")
	fl.StringVar(&authKind, "auth-kind", "", "upstream auth: auto, oauth2, bearer, plugin, none")
	fl.StringVar(&authToken, "auth-token", "", "static upstream bearer token (implies --auth-kind bearer)")
	return cmd
}

// changedAny reports whether any of the flags was given.
func changedAny(cmd *cobra.Command, flags ...string) bool {
	for _, f := range flags {
		if cmd.Flags().Changed(f) {
			return true
		}
	}
	return false
}

func newConnectorsUpdateCommand(f *adminFlags) *cobra.Command {
	var file, status, description, name, ifMatch string
	cmd := &cobra.Command{
		Use:   "update SLUG",
		Short: "Change a connector (JSON merge patch from --file, or flags)",
		Long: "Change a connector. --file sends a JSON merge patch as is; otherwise --status,\n" +
			"--description and --name build one. --if-match VERSION makes the change only if\n" +
			"the connector is still at that version (see `connectors get`).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var body []byte
			var err error
			if file != "" {
				if changedAny(cmd, "status", "description", "name") {
					return errors.New("give either --file or --status/--description/--name, not both")
				}
				if body, err = readBodyFile(cmd, file); err != nil {
					return err
				}
			} else {
				m := map[string]any{}
				setIfChanged(cmd, m, "status", "status", status)
				setIfChanged(cmd, m, "description", "description", description)
				setIfChanged(cmd, m, "name", "name", name)
				if len(m) == 0 {
					return errors.New("nothing to change: give --file, --status, --description or --name")
				}
				if body, err = marshalBody(m); err != nil {
					return err
				}
			}
			match, err := ifMatchHeader(ifMatch)
			if err != nil {
				return err
			}
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var v connectorView
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "PATCH", path: pathOf("connectors", args[0]), body: body, ifMatch: match}, &v)
			if err != nil {
				return err
			}
			return printConnector(pr, raw, v)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&file, "file", "f", "", "JSON merge patch to send as is (\"-\" for stdin)")
	fl.StringVar(&status, "status", "", "new status: active, disabled, draft")
	restrict(cmd, "status", "active", "disabled", "draft")
	fl.StringVar(&description, "description", "", "new description")
	fl.StringVar(&name, "name", "", "new display name")
	fl.StringVar(&ifMatch, "if-match", "", "only if the connector is at this version")
	return cmd
}

func newConnectorsDeleteCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete SLUG",
		Short: "Delete a connector",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			raw, err := c.call(cmd.Context(), apiRequest{method: "DELETE", path: pathOf("connectors", args[0])})
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			return pr.line("connector %s deleted", args[0])
		},
	}
}

func newConnectorsCredentialsCommand(f *adminFlags) *cobra.Command {
	var values []string
	cmd := &cobra.Command{
		Use:   "credentials SLUG --value K=V...",
		Short: "Store your own values for a connector's header placeholders",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			vals, err := parseKV(values, "value")
			if err != nil {
				return err
			}
			body, err := marshalBody(map[string]any{"values": vals})
			if err != nil {
				return err
			}
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			raw, err := c.call(cmd.Context(), apiRequest{method: "PUT", path: pathOf("connectors", args[0], "credentials"), body: body})
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			return pr.line("stored your values for %s: %s", args[0], strings.Join(sortedKeys(vals), ", "))
		},
	}
	cmd.Flags().StringArrayVar(&values, "value", nil, "placeholder value K=V (repeatable)")
	_ = cmd.MarkFlagRequired("value")
	return cmd
}
