package connector

import (
	"net/url"
	"regexp"
)

var pluginTransportPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// Builtin reports whether t is one of the transports the gateway ships
// with; any other well-formed name is a transport plugin's.
func (t Transport) Builtin() bool {
	return t == TransportStreamableHTTP || t == TransportSSE || t == TransportSTDIO
}

// validatePluginTransport checks a connector of a plugin transport: a
// well-formed transport name and an absolute URL (any scheme the plugin
// speaks, ws:// for the WebSocket example) without credentials.
func (c *Connector) validatePluginTransport() error {
	if !pluginTransportPattern.MatchString(string(c.Transport)) {
		return invalid("transport", "%q is not one of streamable-http, sse, stdio, nor a plugin transport name (1-32 lowercase letters, digits or dashes)", c.Transport)
	}
	if c.Command != "" || len(c.Args) > 0 || len(c.Env) > 0 {
		return invalid("command", "is only for the stdio transport")
	}
	if c.URL == "" {
		return invalid("url", "is required for a plugin transport")
	}
	u, err := url.Parse(c.URL)
	switch {
	case err != nil || u.Scheme == "" || u.Host == "":
		return invalid("url", "must be an absolute URL with a scheme and a host")
	case u.User != nil:
		return invalid("url", "must not carry credentials; use auth or headers")
	}
	return nil
}
