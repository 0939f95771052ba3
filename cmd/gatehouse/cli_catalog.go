package main

import (
	"encoding/json"
	"strings"

	"github.com/spf13/cobra"
)

// templateView is the part of a catalog template the CLI shows.
type templateView struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Version     string            `json:"version"`
	Description string            `json:"description"`
	Publisher   string            `json:"publisher"`
	Homepage    string            `json:"homepage"`
	Category    string            `json:"category"`
	Hosting     string            `json:"hosting"`
	Transport   string            `json:"transport"`
	URL         string            `json:"url"`
	Command     string            `json:"command"`
	Args        []string          `json:"args"`
	Headers     map[string]string `json:"headers"`
	Auth        struct {
		Kind string `json:"kind"`
	} `json:"auth"`
	Env []struct {
		Name     string `json:"name"`
		Required bool   `json:"required"`
		Secret   bool   `json:"secret"`
		Default  string `json:"default"`
	} `json:"env"`
	Tools []struct {
		Name string `json:"name"`
	} `json:"tools"`
	Builtin bool   `json:"builtin"`
	Owner   string `json:"owner"`
}

func (t templateView) fields() []field {
	values := make([]string, len(t.Env))
	for i, e := range t.Env {
		var attrs []string
		if e.Required {
			attrs = append(attrs, "required")
		}
		if e.Secret {
			attrs = append(attrs, "secret")
		}
		if e.Default != "" {
			attrs = append(attrs, "default "+e.Default)
		}
		values[i] = e.Name
		if len(attrs) > 0 {
			values[i] += " (" + strings.Join(attrs, ", ") + ")"
		}
	}
	tools := make([]string, len(t.Tools))
	for i, tool := range t.Tools {
		tools[i] = tool.Name
	}
	return []field{
		{"id", t.ID}, {"name", t.Name}, {"version", t.Version}, {"description", t.Description},
		{"publisher", t.Publisher}, {"homepage", t.Homepage}, {"category", t.Category},
		{"hosting", t.Hosting}, {"transport", t.Transport}, {"url", t.URL},
		{"command", strings.TrimSpace(t.Command + " " + strings.Join(t.Args, " "))},
		{"headers", fmtMap(t.Headers)}, {"auth", t.Auth.Kind},
		{"values", fmtList(values, "")}, {"tools", fmtList(tools, "")},
		{"builtin", fmtBool(t.Builtin)}, {"owner", t.Owner},
	}
}

// instanceAnswer is a connector made from a template (catalog add,
// requests approve): the connector and the values it still lacks.
type instanceAnswer struct {
	Connector *connectorView `json:"connector"`
	Missing   []string       `json:"missing"`
}

// print shows the connector, then what is missing, set apart.
func (a instanceAnswer) print(pr *printer) error {
	if a.Connector == nil {
		return nil
	}
	if err := pr.fields(a.Connector.fields()); err != nil {
		return err
	}
	if len(a.Missing) == 0 {
		return pr.line("\nmissing: none; the connector is complete")
	}
	return pr.line("\nmissing: %s\n  the connector needs these before it can be used; set them with\n  `gatehouse connectors update %s --file PATCH.json`, then set its status to active",
		strings.Join(a.Missing, ", "), a.Connector.Slug)
}

func newCatalogCommand(getenv func(string) string) *cobra.Command {
	cmd, f := newAdminGroup("catalog", "Browse the connector catalog and add connectors from it", getenv)
	cmd.AddCommand(newCatalogListCommand(f), newCatalogShowCommand(f), newCatalogAddCommand(f),
		newCatalogCreateCommand(f), newCatalogDeleteCommand(f))
	return cmd
}

func newCatalogListCommand(f *adminFlags) *cobra.Command {
	return newListCommand(f, listSpec[templateView]{
		use: "list", short: "List catalog templates", path: "/catalog", key: "templates",
		filters: []listFilter{{"query", "search names and descriptions", nil}, {"hosting", "all, hosted or local", []string{"all", "hosted", "local"}}},
		header:  []string{"ID", "NAME", "CATEGORY", "HOSTING", "TRANSPORT", "BUILTIN"},
		row: func(t templateView) []string {
			return []string{t.ID, t.Name, t.Category, t.Hosting, t.Transport, fmtBool(t.Builtin)}
		},
	})
}

func newCatalogShowCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a catalog template and the connectors made from it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var card struct {
				Template   templateView `json:"template"`
				Version    string       `json:"catalog_version"`
				Connectors []string     `json:"connectors"`
			}
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "GET", path: pathOf("catalog", args[0])}, &card)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			fs := append(card.Template.fields(),
				field{"connectors", fmtList(card.Connectors, "none")},
				field{"catalog version", card.Version})
			return pr.fields(fs)
		},
	}
}

func newCatalogAddCommand(f *adminFlags) *cobra.Command {
	var slug, name, token, status string
	var values []string
	cmd := &cobra.Command{
		Use:   "add ID",
		Short: "Add a connector from a catalog template",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := instanceBody(values, map[string]string{"slug": slug, "name": name, "token": token, "status": status})
			if err != nil {
				return err
			}
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var ans instanceAnswer
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "POST", path: pathOf("catalog", args[0], "connectors"), body: body}, &ans)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			return ans.print(pr)
		},
	}
	registerInstanceFlags(cmd, &slug, &name, &token, &values)
	cmd.Flags().StringVar(&status, "status", "", "active, disabled or draft (default: active when nothing is missing)")
	restrict(cmd, "status", "active", "disabled", "draft")
	return cmd
}

// registerInstanceFlags adds the flags that fill a template.
func registerInstanceFlags(cmd *cobra.Command, slug, name, token *string, values *[]string) {
	cmd.Flags().StringVar(slug, "slug", "", "connector slug")
	cmd.Flags().StringVar(name, "name", "", "connector display name")
	// Not --token: that is the admin API token every admin command takes,
	// and mixing the two up would store an admin token upstream.
	cmd.Flags().StringVar(token, "upstream-token", "", "upstream bearer token for the connector (the body's token)")
	cmd.Flags().StringArrayVar(values, "value", nil, "template value K=V (repeatable)")
}

// instanceBody builds the body that fills a template from the flags given
// (values from --value; the rest keyed by body field).
func instanceBody(values []string, strs map[string]string) ([]byte, error) {
	m := map[string]any{}
	vals, err := parseKV(values, "value")
	if err != nil {
		return nil, err
	}
	if vals != nil {
		m["values"] = vals
	}
	for k, v := range strs {
		if v != "" {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

func newCatalogCreateCommand(f *adminFlags) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "create --file TEMPLATE.json",
		Short: "Add your own catalog template",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body, err := readBodyFile(cmd, file)
			if err != nil {
				return err
			}
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var t templateView
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "POST", path: "/catalog", body: body}, &t)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			return pr.fields(t.fields())
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "JSON template to send as is (\"-\" for stdin)")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

func newCatalogDeleteCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete one of your own catalog templates",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			if _, err := c.call(cmd.Context(), apiRequest{method: "DELETE", path: pathOf("catalog", args[0])}); err != nil {
				return err
			}
			if pr.json {
				return nil
			}
			return pr.line("template %s deleted", args[0])
		},
	}
}
