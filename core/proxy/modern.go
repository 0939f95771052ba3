package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/era"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/streamhttp"
)

// probeTimeout bounds the server/discover probe of an upstream.
const probeTimeout = 10 * time.Second

// ModernUpstream returns a sessionless connection to connector slug when
// its upstream speaks 2026-07-28, for forwarding a modern client's request
// as is. ok is false when the upstream only speaks the legacy era.
func (p *Proxy) ModernUpstream(ctx context.Context, principal auth.Principal, slug string) (conn *streamhttp.Conn, ok bool, err error) {
	c, rpcErr := p.resolveUsable(principal, slug)
	if rpcErr != nil {
		return nil, false, rpcErr
	}
	if c.Transport != connector.TransportStreamableHTTP {
		return nil, false, nil
	}
	conn, err = p.modernConn(ctx, c, principal.User)
	if err != nil {
		return nil, false, err
	}
	if c.Advanced.UpstreamEra == "legacy" {
		return nil, false, nil
	}
	if _, modern := p.era(ctx, c, conn).Era.(era.Modern); modern {
		return conn, true, nil
	}
	return nil, false, nil
}

// modernConn returns a sessionless connection to an HTTP connector.
func (p *Proxy) modernConn(ctx context.Context, c *connector.Connector, user string) (*streamhttp.Conn, error) {
	headers, err := p.headers(ctx, c, user)
	if err != nil {
		return nil, err
	}
	return streamhttp.New(streamhttp.Config{
		URL: c.URL, Headers: headers, PerRequest: p.perRequest(c, user), Client: p.client(c.Slug), MaxMessageBytes: p.opts.MaxMessageBytes,
		Log: p.log.With().Str("connector", c.Slug).Logger(),
	}), nil
}

// translateLegacy reports whether a legacy client's session on c must be
// translated to sessionless modern calls: when pinned, or when the
// upstream speaks only the modern era.
func (p *Proxy) translateLegacy(ctx context.Context, c *connector.Connector, conn *streamhttp.Conn) bool {
	switch {
	case c.Transport != connector.TransportStreamableHTTP || c.Advanced.UpstreamEra == "legacy":
		return false
	case c.Advanced.UpstreamEra == "modern":
		return true
	}
	// Dual-era upstreams count as modern (they answer server/discover)
	// but keep their legacy sessions.
	info := p.era(ctx, c, conn)
	_, modern := info.Era.(era.Modern)
	return modern && !info.DualEra()
}

// era returns the cached era of c's upstream, probing it once.
func (p *Proxy) era(ctx context.Context, c *connector.Connector, conn *streamhttp.Conn) era.Upstream {
	info, fresh := p.eras.Of(ctx, c.Slug, func(ctx context.Context) era.Upstream { return probe(ctx, conn) })
	if fresh {
		p.log.Info().Str("connector", c.Slug).Str("era", info.Era.Name()).Strs("versions", info.Versions).Msg("probed upstream protocol era")
	}
	return info
}

// probe sends server/discover: a modern server answers with its supported
// versions; a legacy one with an HTTP or JSON-RPC error.
func probe(ctx context.Context, conn *streamhttp.Conn) era.Upstream {
	res, err := discover(ctx, conn, discoverMeta(nil, nil))
	switch {
	case errors.Is(err, errNotModern):
		return era.Upstream{Era: era.Legacy{}}
	case err != nil:
		return era.Upstream{} // unreachable now: ask again next time
	}
	return era.Upstream{Era: era.Modern{}, Versions: res.SupportedVersions}
}

// discoverResult holds the fields of a server/discover result the gateway reads.
type discoverResult struct {
	SupportedVersions []string                   `json:"supportedVersions"`
	Capabilities      json.RawMessage            `json:"capabilities"`
	Instructions      string                     `json:"instructions,omitempty"`
	Meta              map[string]json.RawMessage `json:"_meta,omitempty"`
}

// errNotModern: the upstream answered server/discover like a legacy server.
var errNotModern = errors.New("upstream does not speak 2026-07-28")

func discoverMeta(caps, info json.RawMessage) map[string]any {
	if caps == nil {
		caps = json.RawMessage(`{}`)
	}
	if info == nil {
		info = json.RawMessage(`{"name":"gatehouse","version":"1"}`)
	}
	return map[string]any{
		mcp.MetaProtocolVersion:    mcp.Version20260728,
		mcp.MetaClientCapabilities: caps,
		mcp.MetaClientInfo:         info,
	}
}

// discover sends server/discover and returns the modern result.
func discover(ctx context.Context, conn *streamhttp.Conn, meta map[string]any) (*discoverResult, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	msg, err := mcp.NewRequest(json.RawMessage(`"gatehouse-discover"`), mcp.MethodServerDiscover, map[string]any{"_meta": meta})
	if err != nil {
		return nil, err
	}
	m, err := forwardOnce(ctx, conn, msg)
	if err != nil {
		return nil, err
	}
	if m == nil || m.Error != nil || m.Result == nil {
		return nil, errNotModern
	}
	var r discoverResult
	if json.Unmarshal(m.Result, &r) != nil || !slices.Contains(r.SupportedVersions, mcp.Version20260728) {
		return nil, errNotModern
	}
	return &r, nil
}

// forwardOnce forwards a modern request and returns its final message, or
// nil with errNotModern when the upstream answered with a bare HTTP error.
func forwardOnce(ctx context.Context, conn *streamhttp.Conn, msg *mcp.Message) (*mcp.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	reply, err := conn.Forward(ctx, msg, modernHeaders(msg))
	if err != nil {
		return nil, err
	}
	if reply.Stream == nil {
		m, perr := mcp.Parse(reply.Body)
		if perr != nil || reply.Status == http.StatusNotFound && m.Error == nil {
			return nil, errNotModern
		}
		return m, nil
	}
	defer reply.Stream.Close()
	for {
		next, err := reply.Stream.Next(ctx)
		if err != nil {
			return nil, err
		}
		if next.Kind() == mcp.KindResponse {
			return next, nil
		}
	}
}

// modernHeaders are the routing headers a 2026-07-28 request carries.
func modernHeaders(m *mcp.Message) map[string]string {
	h := map[string]string{mcp.HeaderMethod: m.Method, mcp.HeaderProtocolVersion: mcp.Version20260728}
	if name := m.TargetName(); name != "" {
		h[mcp.HeaderName] = name
	}
	return h
}
