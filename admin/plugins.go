package admin

import (
	"slices"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/policy"
	pluginhost "github.com/gatehouse-mcp/gatehouse/plugins/host"
)

// PluginLister lists the gateway's plugins with their state.
type PluginLister interface {
	List() []pluginhost.Status
}

// routePlugins serves GET /admin/v1/plugins. Plugins are gateway
// configuration: who may read the settings may list them.
func (a *API) routePlugins(ctx *fasthttp.RequestCtx, p auth.Principal, method string, rest []string) {
	if len(rest) != 0 {
		writeError(ctx, fasthttp.StatusNotFound, "not_found", "no such admin endpoint", "")
		return
	}
	if method != fasthttp.MethodGet {
		methodNotAllowed(ctx, method)
		return
	}
	if !a.allow(ctx, p, policy.ResSettings, policy.ActRead) {
		return
	}
	list := []pluginhost.Status{}
	if a.Plugins != nil {
		list = append(list, a.Plugins.List()...)
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"plugins": list})
}

// transportError refuses a connector whose transport is neither built in
// nor served by a loaded transport plugin.
func (a *API) transportError(c *connector.Connector) error {
	if c.Transport.Builtin() || slices.Contains(a.PluginTransports, string(c.Transport)) {
		return nil
	}
	loaded := "none is loaded"
	if len(a.PluginTransports) > 0 {
		loaded = "loaded: " + strings.Join(a.PluginTransports, ", ")
	}
	return &connector.FieldError{Field: "transport", Message: "\"" + string(c.Transport) +
		"\" is not a built-in transport (streamable-http, sse, stdio) and no transport plugin serves it (" + loaded +
		"); configure one in plugins.list (docs/plugins.md)"}
}
