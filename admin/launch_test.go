package admin

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestLaunchNeedsItsOwnPermission: creating a STDIO connector, or changing
// its command, args or env, runs a program on the gateway host. Admins
// may do it only for allow-listed commands; owners may; a config-only
// gateway refuses it to everyone. Nothing is stored when refused.
func TestLaunchNeedsItsOwnPermission(t *testing.T) {
	const shell = `{"name":"Shell","slug":"shell","transport":"stdio","command":"sh","args":["-c","id > /tmp/pwned"],"status":"active"}`
	const filesMCP = `{"name":"Files","slug":"files","transport":"stdio","command":"/usr/local/bin/files-mcp","status":"active"}`
	const remote = `{"name":"Remote","slug":"remote","url":"https://mcp.example.com/mcp","status":"active"}`
	tests := []struct {
		name      string
		policy    STDIOPolicy
		actor     string // "admin" | "owner"
		setup     []string
		method    string
		path      string
		body      string
		wantCode  int
		wantInMsg string
	}{
		{name: "an admin may not create a shell connector", actor: "admin", method: http.MethodPost, path: "/connectors", body: shell, wantCode: 403, wantInMsg: "connectors/commands"},
		{name: "an owner may", actor: "owner", method: http.MethodPost, path: "/connectors", body: shell, wantCode: 201},
		{name: "an admin may create an allow-listed command", policy: STDIOPolicy{AllowedCommands: []string{"/usr/local/bin/files-mcp"}}, actor: "admin", method: http.MethodPost, path: "/connectors", body: filesMCP, wantCode: 201},
		{name: "a bare allow-listed name does not match a path", policy: STDIOPolicy{AllowedCommands: []string{"files-mcp"}}, actor: "admin", method: http.MethodPost, path: "/connectors", body: filesMCP, wantCode: 403, wantInMsg: "files-mcp"},
		{name: "the allow-list names commands, not interpreters of them", policy: STDIOPolicy{AllowedCommands: []string{"/usr/local/bin/files-mcp"}}, actor: "admin", method: http.MethodPost, path: "/connectors", body: shell, wantCode: 403},
		{name: "an admin may not change a STDIO connector's command", actor: "admin", setup: []string{filesMCP}, method: http.MethodPatch, path: "/connectors/files", body: `{"command":"sh"}`, wantCode: 403},
		{name: "an admin may not change its args", actor: "admin", setup: []string{filesMCP}, method: http.MethodPatch, path: "/connectors/files", body: `{"args":["--exec","sh"]}`, wantCode: 403},
		{name: "an admin may not change its env", actor: "admin", setup: []string{filesMCP}, method: http.MethodPatch, path: "/connectors/files", body: `{"env":{"LD_PRELOAD":"/tmp/x.so"}}`, wantCode: 403},
		{name: "an admin may not turn an HTTP connector into a STDIO one", actor: "admin", setup: []string{remote}, method: http.MethodPatch, path: "/connectors/remote", body: `{"transport":"stdio","url":null,"auth":{"kind":"none"},"command":"sh"}`, wantCode: 403},
		{name: "an admin may still disable a STDIO connector", actor: "admin", setup: []string{filesMCP}, method: http.MethodPatch, path: "/connectors/files", body: `{"status":"disabled"}`, wantCode: 200},
		{name: "an admin may still rename one", actor: "admin", setup: []string{filesMCP}, method: http.MethodPatch, path: "/connectors/files", body: `{"name":"Shared files"}`, wantCode: 200},
		{name: "an admin may add a built-in local template (its command is the catalog's)", actor: "admin", method: http.MethodPost, path: "/catalog/filesystem/connectors", body: `{"slug":"drive","values":{"ALLOWED_DIRECTORY":"/srv/share"}}`, wantCode: 201},
		{name: "an admin may not instantiate an admin-made STDIO template", actor: "admin",
			setup:  []string{`ADMIN POST /catalog {"id":"evil","name":"Evil","version":"1.0.0","description":"x","publisher":"x","homepage":"https://x.example","category":"data","hosting":"local","transport":"stdio","command":"sh","args":["-c","id"],"auth":{"kind":"none"},"tools":[]}`},
			method: http.MethodPost, path: "/catalog/evil/connectors", body: `{}`, wantCode: 403},
		{name: "an admin may instantiate an owner-made STDIO template", actor: "admin",
			setup:  []string{`POST /catalog {"id":"vetted","name":"Vetted","version":"1.0.0","description":"x","publisher":"x","homepage":"https://x.example","category":"data","hosting":"local","transport":"stdio","command":"/usr/local/bin/files-mcp","auth":{"kind":"none"},"tools":[]}`},
			method: http.MethodPost, path: "/catalog/vetted/connectors", body: `{}`, wantCode: 201},
		{name: "a config-only gateway refuses owners too", policy: STDIOPolicy{ConfigOnly: true}, actor: "owner", method: http.MethodPost, path: "/connectors", body: shell, wantCode: 403, wantInMsg: "config file only"},
		{name: "a config-only gateway refuses built-in local templates", policy: STDIOPolicy{ConfigOnly: true}, actor: "owner", method: http.MethodPost, path: "/catalog/filesystem/connectors", body: `{"slug":"drive","values":{"ALLOWED_DIRECTORY":"/srv/share"}}`, wantCode: 403},
		{name: "a config-only gateway still takes HTTP connectors", policy: STDIOPolicy{ConfigOnly: true}, actor: "admin", method: http.MethodPost, path: "/connectors", body: remote, wantCode: 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			for _, s := range tt.setup {
				// "POST path body" posts as the owner, "ADMIN POST …" as the
				// admin; a bare body creates a connector as the owner.
				by, method, path, body := owner, http.MethodPost, "/connectors", s
				if rest, ok := strings.CutPrefix(s, "ADMIN "); ok {
					by, s = admin, rest
				}
				if rest, ok := strings.CutPrefix(s, "POST "); ok {
					path, body, _ = strings.Cut(rest, " ")
				}
				if code, out, _ := f.do(t, by, method, path, body); code >= 300 {
					t.Fatalf("setup %s: %d %v", path, code, out)
				}
			}
			f.api.STDIO = tt.policy
			before, _ := f.st.Connectors().List(context.Background())
			actor := admin
			if tt.actor == "owner" {
				actor = owner
			}
			code, out, _ := f.do(t, actor, tt.method, tt.path, tt.body)
			if code != tt.wantCode {
				t.Fatalf("HTTP %d %v, want %d", code, out, tt.wantCode)
			}
			if code == http.StatusForbidden {
				if errField(out) != "command" || !strings.Contains(errMessage(out), tt.wantInMsg) {
					t.Errorf("refusal %v does not name the command field and %q", out, tt.wantInMsg)
				}
				after, _ := f.st.Connectors().List(context.Background())
				if len(after) != len(before) {
					t.Errorf("%d connectors after the refusal, %d before", len(after), len(before))
				}
				for i := range after {
					if after[i].Command != before[i].Command || after[i].Transport != before[i].Transport || len(after[i].Env) != len(before[i].Env) || len(after[i].Args) != len(before[i].Args) {
						t.Errorf("connector %s changed: %+v", after[i].Slug, after[i])
					}
				}
			}
		})
	}
}
