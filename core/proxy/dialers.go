package proxy

import (
	"context"
	"net/http"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/ssetransport"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/stdio"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/streamhttp"
)

// Dialer opens an upstream session for connectors of one transport. The
// built-in transports are dialers like any other: a transport plugin
// registers its own under its transport name (Options.Dialers).
type Dialer interface {
	Dial(ctx context.Context, req DialRequest) (upstream.Conn, error)
}

// DialFunc is a function that is a Dialer.
type DialFunc func(ctx context.Context, req DialRequest) (upstream.Conn, error)

// Dial calls f.
func (f DialFunc) Dial(ctx context.Context, req DialRequest) (upstream.Conn, error) {
	return f(ctx, req)
}

// DialRequest is what a dialer gets for one upstream session.
type DialRequest struct {
	Connector *connector.Connector
	// User is whose session it is.
	User string
	// Headers expands the connector's headers with the user's values
	// (HTTP transports); an error names the missing placeholder.
	Headers func(context.Context) (map[string]string, error)
	// PerRequest, when not nil, supplies headers taken anew for each
	// request of the session (upstream OAuth tokens refreshed within a
	// long session, identity forward; upstreamauth.go).
	PerRequest func(context.Context) (map[string]string, error)
	// HTTP and Fast are the connector's clients, whose dialer refuses
	// private addresses unless allowed (the SSRF guard).
	HTTP *http.Client
	Fast *fasthttp.Client
	// MaxMessageBytes bounds one upstream message.
	MaxMessageBytes int
	// Redact are the connector's secret values, never to be logged.
	Redact []string
	Log    zerolog.Logger
}

// builtinDialers are the transports the gateway ships with.
func builtinDialers() map[connector.Transport]Dialer {
	return map[connector.Transport]Dialer{
		connector.TransportSTDIO: DialFunc(func(ctx context.Context, r DialRequest) (upstream.Conn, error) {
			c := r.Connector
			return stdio.Start(ctx, stdio.Config{Command: c.Command, Args: c.Args, Env: c.Env,
				MaxMessageBytes: r.MaxMessageBytes, Redact: r.Redact, Log: r.Log})
		}),
		connector.TransportStreamableHTTP: DialFunc(func(ctx context.Context, r DialRequest) (upstream.Conn, error) {
			headers, err := r.Headers(ctx)
			if err != nil {
				return nil, err
			}
			return streamhttp.New(streamhttp.Config{URL: r.Connector.URL, Headers: headers, PerRequest: r.PerRequest, Client: r.HTTP, Fast: r.Fast,
				MaxMessageBytes: r.MaxMessageBytes, Log: r.Log}), nil
		}),
		connector.TransportSSE: DialFunc(func(ctx context.Context, r DialRequest) (upstream.Conn, error) {
			headers, err := r.Headers(ctx)
			if err != nil {
				return nil, err
			}
			return ssetransport.Dial(ctx, ssetransport.Config{URL: r.Connector.URL, Headers: headers, PerRequest: r.PerRequest, Client: r.HTTP,
				MaxMessageBytes: r.MaxMessageBytes, Log: r.Log})
		}),
	}
}

// dial opens a raw upstream session for connector c on behalf of user,
// through the dialer registered for its transport.
func (p *Proxy) dial(ctx context.Context, c *connector.Connector, user string) (upstream.Conn, error) {
	d, ok := p.dialers[c.Transport]
	if !ok {
		return nil, mcp.Errorf(mcp.CodeUpstreamUnavailable, "connector %q: no dialer for transport %q", c.Slug, c.Transport)
	}
	req := DialRequest{
		Connector: c, User: user,
		Headers:         func(ctx context.Context) (map[string]string, error) { return p.headers(ctx, c, user) },
		PerRequest:      p.perRequest(c, user),
		MaxMessageBytes: p.opts.MaxMessageBytes,
		Redact:          secretValues(c),
		Log:             p.log.With().Str("connector", c.Slug).Logger(),
	}
	if c.Transport != connector.TransportSTDIO {
		req.HTTP, req.Fast = p.client(c.Slug), p.fastClient(c.Slug)
	}
	return d.Dial(ctx, req)
}
