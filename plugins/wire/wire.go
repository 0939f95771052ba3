// Package wire is the contract a plugin process and the gateway share: the
// go-plugin handshake, the protocol version, the plugin kinds and their
// gRPC bindings. The host (plugins/host) and the plugin SDK (sdk/plugin)
// both build on it, so that the two sides cannot drift apart.
package wire

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	authv1 "github.com/gatehouse-mcp/gatehouse/plugins/proto/auth/v1"
	transportv1 "github.com/gatehouse-mcp/gatehouse/plugins/proto/transport/v1"
)

// ProtocolVersion is the plugin protocol version this gateway speaks. It
// selects the gRPC packages (transport.v1, auth.v1); a plugin built for
// another version is refused at the handshake.
const ProtocolVersion = 1

// Kinds of plugin, as named in config and in the go-plugin plugin set.
const (
	KindTransport = "transport"
	KindAuth      = "auth"
)

// ConfigEnv is the environment variable that carries a plugin's settings
// (a JSON object of strings) from the gateway's config to the process.
const ConfigEnv = "GATEHOUSE_PLUGIN_CONFIG"

// Handshake is the go-plugin handshake: a process started without the
// cookie (run by hand) says it is a plugin and exits instead of serving.
func Handshake() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   "GATEHOUSE_PLUGIN",
		MagicCookieValue: "7f3c2a9e-gatehouse-mcp-plugin",
	}
}

// Transport binds the transport.v1 service to go-plugin. Impl is set on
// the plugin side; the gateway side dispenses a TransportClient.
type Transport struct {
	plugin.NetRPCUnsupportedPlugin
	Impl transportv1.TransportServer
}

// GRPCServer registers the plugin's implementation.
func (p *Transport) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	transportv1.RegisterTransportServer(s, p.Impl)
	return nil
}

// GRPCClient returns the gateway's client.
func (p *Transport) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return transportv1.NewTransportClient(c), nil
}

// Auth binds the auth.v1 service to go-plugin.
type Auth struct {
	plugin.NetRPCUnsupportedPlugin
	Impl authv1.AuthServer
}

// GRPCServer registers the plugin's implementation.
func (p *Auth) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	authv1.RegisterAuthServer(s, p.Impl)
	return nil
}

// GRPCClient returns the gateway's client.
func (p *Auth) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return authv1.NewAuthClient(c), nil
}

// ClientSet is the plugin set the gateway dispenses from, by version.
func ClientSet() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {KindTransport: &Transport{}, KindAuth: &Auth{}},
	}
}
