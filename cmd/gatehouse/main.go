// Command gatehouse is the Gatehouse MCP gateway: `gatehouse serve` runs
// it; further subcommands drive the admin API and the guard tools.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is the build's version, set by the Makefile with
// -ldflags "-X main.version=…" (git describe); "dev" otherwise.
var version = "dev"

func main() {
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse:", err)
		os.Exit(1)
	}
}

// newRootCommand assembles the CLI. cobra is the de-facto standard for Go
// CLIs with nested subcommands (kubectl, hugo, gh), which the admin CLI
// needs; the stdlib flag package has no subcommands.
func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "gatehouse",
		Short:         "Gatehouse: a governed MCP gateway",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.Version = version
	root.SetVersionTemplate("gatehouse {{.Version}}\n")
	root.AddCommand(newServeCommand())
	root.AddCommand(&cobra.Command{
		Use: "version", Short: "Print the gateway's version", Args: cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), "gatehouse", version) },
	})
	root.AddCommand(newAdminCommands(os.Getenv)...)
	root.AddCommand(newGuardCommand())
	return root
}
