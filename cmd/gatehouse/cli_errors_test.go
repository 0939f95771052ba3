package main

import (
	"strings"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/config"
)

// TestCLIErrorsSayWhatToDo: each message a user met in the first hour
// names the fix; a value a filter can never match, and a mistyped
// subcommand, fail (exit 1) before any request.
func TestCLIErrorsSayWhatToDo(t *testing.T) {
	runCases(t, []cliCase{
		{name: "an outcome the log never holds is refused with the list", args: []string{"audit", "query", "--outcome", "ok"},
			wantErr: `--outcome "ok" is not one of: success, error, tool_error, denied`},
		{name: "the export checks it too", args: []string{"audit", "export", "--outcome", "bogus"},
			wantErr: `--outcome "bogus" is not one of: success, error, tool_error, denied`},
		{name: "a stored outcome passes", args: []string{"audit", "query", "--outcome", "success"},
			exchanges: []exchange{{method: "GET", path: "/audit", query: map[string][]string{"outcome": {"success"}}, answer: `{"entries":[],"next_cursor":""}`}},
			wantOut:   []string{"OUTCOME"}},
		{name: "a connector status filter is checked", args: []string{"connectors", "list", "--status", "live"},
			wantErr: `--status "live" is not one of: active, disabled, draft`},
		{name: "a catalog hosting filter is checked", args: []string{"catalog", "list", "--hosting", "cloud"},
			wantErr: `--hosting "cloud" is not one of: all, hosted, local`},
		{name: "a request status filter is checked", args: []string{"requests", "list", "--status", "open"},
			wantErr: `--status "open" is not one of: pending, approved, rejected`},
		{name: "an approval status filter is checked", args: []string{"approvals", "list", "--status", "waiting"},
			wantErr: `--status "waiting" is not one of: pending, approved, denied, expired, abandoned`},
		{name: "a new connector's transport is checked", args: []string{"connectors", "create", "--name", "x", "--transport", "websocket"},
			wantErr: `--transport "websocket" is not one of: streamable-http, sse, stdio`},
		{name: "a status update is checked", args: []string{"connectors", "update", "github", "--status", "on"},
			wantErr: `--status "on" is not one of: active, disabled, draft`},
		{name: "a mistyped subcommand fails", args: []string{"tokens", "lsit"},
			wantErr: `unknown command "lsit" for "gatehouse tokens"; run 'gatehouse tokens --help' for its commands`},
		{name: "a missing or wrong token names GATEHOUSE_TOKEN and --token", args: []string{"whoami"},
			exchanges: []exchange{{method: "GET", path: "/me", status: 401, answer: `{"error":{"code":"unauthorized","message":"invalid token: send Authorization: Bearer <token>"}}`}},
			wantErr:   "HTTP 401 unauthorized: invalid token: set GATEHOUSE_TOKEN or pass --token with an API token (the owner token is printed at the gateway's first start; GATEHOUSE_ADMIN_TOKEN sets it when the gateway starts)"},
	})
}

func TestGuardGroupRefusesUnknownSubcommands(t *testing.T) {
	root := newRootCommand()
	root.SetArgs([]string{"guard", "tset"})
	root.SetOut(new(strings.Builder))
	err := root.Execute()
	if err == nil || err.Error() != `unknown command "tset" for "gatehouse guard"; run 'gatehouse guard --help' for its commands` {
		t.Errorf("err = %v", err)
	}
}

func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		root := newRootCommand()
		var out strings.Builder
		root.SetOut(&out)
		root.SetArgs(args)
		if err := root.Execute(); err != nil || out.String() != "gatehouse "+version+"\n" {
			t.Errorf("%v: %q %v", args, out.String(), err)
		}
	}
}

// TestConsoleLogsHaveNoColourOffATerminal: `make run > file` must not fill
// the file with ANSI escape codes.
func TestConsoleLogsHaveNoColourOffATerminal(t *testing.T) {
	var out strings.Builder
	log := newLogger(config.LogConfig{Format: "console", Level: "info"}, &out)
	log.Info().Str("k", "v").Msg("hello")
	if strings.Contains(out.String(), "\x1b[") {
		t.Errorf("console log to a non-terminal has ANSI codes: %q", out.String())
	}
	if !strings.Contains(out.String(), "hello") {
		t.Errorf("log %q", out.String())
	}
}

// TestShellCompletion: README's `gatehouse completion bash` prints a
// completion script.
func TestShellCompletion(t *testing.T) {
	root := newRootCommand()
	var out strings.Builder
	root.SetOut(&out)
	root.SetArgs([]string{"completion", "bash"})
	if err := root.Execute(); err != nil || !strings.Contains(out.String(), "bash completion") {
		t.Errorf("%v %.100q", err, out.String())
	}
}
