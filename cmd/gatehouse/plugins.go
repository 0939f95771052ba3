package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/config"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	pluginhost "github.com/gatehouse-mcp/gatehouse/plugins/host"
)

// startPlugins starts the configured plugins (each verified against its
// checksum first) and checks that every config-seeded connector's
// transport is built in or served by one of them.
func startPlugins(ctx context.Context, cfg config.PluginsConfig, seeds []config.SeedConnector, log zerolog.Logger) (*pluginhost.Host, error) {
	h := pluginhost.New(pluginhost.FromConfig(cfg), log.With().Str("component", "plugins").Logger())
	transports := h.Transports()
	for i, s := range seeds {
		t := connector.Transport(s.Transport)
		if t == "" || t.Builtin() || slices.Contains(transports, s.Transport) {
			continue
		}
		return nil, fmt.Errorf("config connectors[%d]: transport %q is not built in and no plugin in plugins.list serves it (loaded: %s)",
			i, s.Transport, strings.Join(transports, ", "))
	}
	h.Start(ctx)
	for _, st := range h.List() {
		ev := log.Info()
		if st.State != pluginhost.StateRunning {
			ev = log.Warn()
		}
		ev.Str("plugin", st.Name).Str("kind", st.Kind).Str("state", string(st.State)).Str("error", st.LastError).Msg("plugin")
	}
	return h, nil
}
