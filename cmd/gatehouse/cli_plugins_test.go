package main

import "testing"

const (
	runningPlugin = `{"name":"websocket","kind":"transport","path":"/opt/plugins/gatehouse-plugin-websocket","transport":"websocket","state":"running","restarts":1,"pid":4242,"since":"2026-12-03T12:00:00Z","last_error":"session: the plugin crashed","sha256":"ab"}`
	refusedPlugin = `{"name":"hmacauth","kind":"auth","path":"/opt/plugins/gatehouse-plugin-hmacauth","state":"refused","restarts":0,"since":"2026-12-03T12:01:00Z","last_error":"checksum mismatch","sha256":"cd"}`
)

func TestPluginsCommands(t *testing.T) {
	runCases(t, []cliCase{
		{
			name:      "list prints a row per plugin with its state",
			args:      []string{"plugins", "list"},
			exchanges: []exchange{{method: "GET", path: "/plugins", answer: `{"plugins":[` + runningPlugin + `,` + refusedPlugin + `]}`}},
			wantOut: []string{
				"NAME       KIND       TRANSPORT  STATE    RESTARTS  PID   SINCE                 LAST ERROR",
				"websocket  transport  websocket  running  1         4242  2026-12-03T12:00:00Z  session: the plugin crashed",
				"hmacauth   auth                  refused  0               2026-12-03T12:01:00Z  checksum mismatch",
			},
		},
		{
			name:      "list --json prints the API's answer",
			args:      []string{"plugins", "list", "--json"},
			exchanges: []exchange{{method: "GET", path: "/plugins", answer: `{"plugins":[` + refusedPlugin + `]}`}},
			wantJSON:  `{"plugins":[` + refusedPlugin + `]}`,
		},
		{
			name:      "list without the permission fails with the API's reason",
			args:      []string{"plugins", "list"},
			exchanges: []exchange{{method: "GET", path: "/plugins", status: 403, answer: `{"error":{"code":"forbidden","message":"needs settings:read"}}`}},
			wantErr:   "HTTP 403 forbidden: needs settings:read",
		},
		{
			name:    "list takes no arguments",
			args:    []string{"plugins", "list", "extra"},
			wantErr: `unknown command "extra" for "gatehouse plugins list"`,
		},
		{
			name:    "an unknown subcommand is named",
			args:    []string{"plugins", "restart"},
			wantErr: `unknown command "restart" for "gatehouse plugins"; run 'gatehouse plugins --help' for its commands`,
		},
	})
}
