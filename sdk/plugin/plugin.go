// Package plugin is the SDK for Gatehouse plugins: a transport plugin
// implements Transport and calls ServeTransport, an auth plugin implements
// Authenticator (and optionally Decorator) and calls ServeAuth. The SDK
// does the go-plugin handshake, the gRPC services of the versioned
// interfaces (plugins/proto) and the framing; docs/plugins.md is the guide.
package plugin

import (
	"encoding/json"
	"fmt"
	"os"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/gatehouse-mcp/gatehouse/plugins/wire"
)

// Settings are the plugin's settings from the gateway's config
// (plugins.list[].settings); empty when run outside the gateway.
func Settings() (map[string]string, error) {
	raw := os.Getenv(wire.ConfigEnv)
	if raw == "" || raw == "null" {
		return map[string]string{}, nil
	}
	var out map[string]string
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return nil, fmt.Errorf("read %s: %w", wire.ConfigEnv, err)
	}
	if out == nil {
		out = map[string]string{}
	}
	return out, nil
}

func serve(kind string, p goplugin.Plugin) {
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  wire.Handshake(),
		VersionedPlugins: map[int]goplugin.PluginSet{wire.ProtocolVersion: {kind: p}},
		GRPCServer:       goplugin.DefaultGRPCServer,
	})
}
