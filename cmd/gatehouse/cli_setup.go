package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

// clientSetupView is the answer of GET /connectors/{slug}/setup: the URLs
// and ready-to-paste client configuration.
type clientSetupView struct {
	Connector     string          `json:"connector"`
	URL           string          `json:"url"`
	SSEURL        string          `json:"sse_url"`
	ClaudeDesktop json.RawMessage `json:"claude_desktop"`
	Cursor        json.RawMessage `json:"cursor"`
	VSCode        json.RawMessage `json:"vscode"`
	Local         json.RawMessage `json:"local"`
	Placeholders  []string        `json:"placeholders"`
	Notes         []string        `json:"notes"`
}

func newConnectorsSetupCommand(f *adminFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "setup SLUG",
		Short: "Print the URLs and client configuration snippets for a connector",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, pr, err := f.setup(cmd)
			if err != nil {
				return err
			}
			var s clientSetupView
			raw, err := c.getJSON(cmd.Context(), apiRequest{method: "GET", path: pathOf("connectors", args[0], "setup")}, &s)
			if err != nil {
				return err
			}
			if pr.json {
				return pr.printJSON(raw)
			}
			return printSetup(pr, s)
		},
	}
}

func printSetup(pr *printer, s clientSetupView) error {
	if err := pr.fields([]field{
		{"connector", s.Connector}, {"url", s.URL}, {"sse url", s.SSEURL},
		{"placeholders", fmtList(s.Placeholders, "")},
	}); err != nil {
		return err
	}
	for _, snip := range []struct {
		title string
		raw   json.RawMessage
	}{
		{"Claude Desktop (claude_desktop_config.json)", s.ClaudeDesktop},
		{"Cursor (~/.cursor/mcp.json)", s.Cursor},
		{"VS Code (.vscode/mcp.json)", s.VSCode},
		{"Local (runs on your machine, outside the gateway)", s.Local},
	} {
		if len(snip.raw) == 0 || string(snip.raw) == "null" {
			continue
		}
		// Re-encoded without HTML escaping: the snippets are for pasting,
		// and "\u003cyour Gatehouse token\u003e" would not read well.
		var v any
		if err := json.Unmarshal(snip.raw, &v); err != nil {
			return fmt.Errorf("snippet %s: %w", snip.title, err)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("snippet %s: %w", snip.title, err)
		}
		if err := pr.line("\n%s:\n%s", snip.title, bytes.TrimRight(buf.Bytes(), "\n")); err != nil {
			return err
		}
	}
	if len(s.Notes) > 0 {
		if err := pr.line("\nNotes:"); err != nil {
			return err
		}
		for _, n := range s.Notes {
			if err := pr.line("- %s", n); err != nil {
				return err
			}
		}
	}
	return nil
}
