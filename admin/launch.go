package admin

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/catalog"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
)

// STDIOPolicy says who may, through the API, make the gateway start a
// program: a STDIO connector's command, args and env are code execution
// on the gateway host.
type STDIOPolicy struct {
	// ConfigOnly refuses creating a STDIO connector, or changing its
	// command, args or env, through the API for everyone, owners included:
	// STDIO connectors then come from the config file only.
	ConfigOnly bool
	// AllowedCommands are commands anyone who may write connectors may
	// run: an exact path ("/usr/local/bin/files-mcp") or a bare name
	// ("files-mcp") matching a bare command. Empty: only holders of the
	// connectors/commands permission (owners).
	AllowedCommands []string
}

// allows reports whether command is on the allow-list.
func (s STDIOPolicy) allows(command string) bool {
	if command == "" {
		return false
	}
	for _, c := range s.AllowedCommands {
		if c == command && (filepath.IsAbs(c) || !strings.ContainsRune(c, '/')) {
			return true
		}
	}
	return false
}

// launches reports whether going from before (nil: a new connector) to
// after starts a program the gateway did not run before: a STDIO
// connector whose command, args or env are new or changed.
func launches(before, after *connector.Connector) bool {
	if after.Transport != connector.TransportSTDIO {
		return false
	}
	return before == nil || before.Transport != connector.TransportSTDIO || before.Command != after.Command ||
		!slices.Equal(before.Args, after.Args) || !maps.Equal(before.Env, after.Env)
}

// mayLaunch answers 403 when p may not make the gateway run after's
// program: the API is closed to STDIO (config only), or p lacks the
// connectors/commands permission and the command is not on the
// allow-list. A vetted template's own command (the built-in catalog's, or
// one an owner wrote) is not the caller's, and passes unless the API is
// closed to STDIO.
func (a *API) mayLaunch(ctx *fasthttp.RequestCtx, p auth.Principal, before, after *connector.Connector, from *catalog.Template) bool {
	if !launches(before, after) {
		return true
	}
	if a.STDIO.ConfigOnly {
		writeError(ctx, fasthttp.StatusForbidden, "forbidden",
			"this gateway takes STDIO connectors from its config file only (stdio.config_only): a STDIO connector's command, args and env cannot be set through the API", "command")
		return false
	}
	if from != nil && a.vetted(from) || a.STDIO.allows(after.Command) || a.mayRunCommands(p) {
		return true
	}
	writeError(ctx, fasthttp.StatusForbidden, "forbidden",
		"setting a STDIO connector's command, args or env runs a program on the gateway host: it needs the "+policy.ResConnectorCommands+
			" permission (owners), or a command on the config's stdio.allowed_commands list ("+allowList(a.STDIO.AllowedCommands)+")", "command")
	return false
}

// vetted reports whether a template's command was chosen by someone who
// may run commands: the built-in catalog (pinned in the binary), or a
// template whose author holds connectors/commands now. Instantiating it
// runs the template's command and args, not the caller's.
func (a *API) vetted(t *catalog.Template) bool {
	if t.Builtin {
		return true
	}
	return t.Owner != "" && a.mayRunCommands(auth.Principal{User: t.Owner})
}

// mayRunCommands reports whether p holds connectors/commands: owners do
// (an owner who is also an admin is not caught by the admins' deny rule),
// and whoever a rule grants it.
func (a *API) mayRunCommands(p auth.Principal) bool {
	if slices.Contains(a.heldBy(p), auth.RoleOwner) {
		return true
	}
	ok, err := a.Authz.Allowed(p.User, policy.ResConnectorCommands, policy.ActWrite)
	return err == nil && ok
}

func allowList(cmds []string) string {
	if len(cmds) == 0 {
		return "empty"
	}
	return strings.Join(cmds, ", ")
}
