package main

import (
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

// pluginView is a plugin as GET /plugins answers it.
type pluginView struct {
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	Path      string    `json:"path"`
	Transport string    `json:"transport"`
	State     string    `json:"state"`
	Restarts  int       `json:"restarts"`
	PID       int       `json:"pid"`
	Since     time.Time `json:"since"`
	LastError string    `json:"last_error"`
}

func newPluginsCommand(getenv func(string) string) *cobra.Command {
	cmd, f := newAdminGroup("plugins", "List the gateway's transport and auth plugins and their state", getenv)
	cmd.AddCommand(newPluginsListCommand(f))
	return cmd
}

func newPluginsListCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List the plugins: configured ones in config order, then unconfigured files in plugins.dir", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var out struct {
				Plugins []pluginView `json:"plugins"`
			}
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "GET", path: "/plugins"}, &out)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			rows := make([][]string, len(out.Plugins))
			for i, p := range out.Plugins {
				pid := ""
				if p.PID != 0 {
					pid = strconv.Itoa(p.PID)
				}
				rows[i] = []string{p.Name, p.Kind, p.Transport, p.State, strconv.Itoa(p.Restarts), pid, fmtTime(p.Since), p.LastError}
			}
			return pr.table([]string{"NAME", "KIND", "TRANSPORT", "STATE", "RESTARTS", "PID", "SINCE", "LAST ERROR"}, rows)
		},
	}
}
