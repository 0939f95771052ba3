package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/streamhttp"
)

// Era is the protocol generation an upstream speaks.
type Era uint8

// Eras. Dual-era servers count as modern: they answer server/discover.
const (
	EraUnknown Era = iota
	EraLegacy
	EraModern
)

// probeTimeout bounds the server/discover probe of an upstream.
const probeTimeout = 10 * time.Second

// ModernUpstream returns a sessionless connection to connector slug when
// its upstream speaks 2026-07-28, for forwarding a modern client's request
// as is. ok is false when the upstream only speaks the legacy era.
func (p *Proxy) ModernUpstream(ctx context.Context, principal auth.Principal, slug string) (conn *streamhttp.Conn, ok bool, err error) {
	c, rpcErr := p.Resolve(principal, slug)
	if rpcErr != nil {
		return nil, false, rpcErr
	}
	if c.Transport != connector.TransportStreamableHTTP {
		return nil, false, nil
	}
	headers, err := p.headers(ctx, c, principal.User)
	if err != nil {
		return nil, false, err
	}
	conn = streamhttp.New(streamhttp.Config{
		URL: c.URL, Headers: headers, Client: p.client(c.Slug), MaxMessageBytes: p.opts.MaxMessageBytes,
		Log: p.log.With().Str("connector", c.Slug).Logger(),
	})
	switch p.era(ctx, c, conn) {
	case EraModern:
		return conn, true, nil
	default:
		return nil, false, nil
	}
}

// era returns the cached era of c's upstream, probing it once.
func (p *Proxy) era(ctx context.Context, c *connector.Connector, conn *streamhttp.Conn) Era {
	key := c.Slug
	p.mu.Lock()
	e := p.eras[key]
	p.mu.Unlock()
	if e != EraUnknown {
		return e
	}
	e = probe(ctx, conn)
	if e != EraUnknown {
		p.mu.Lock()
		p.eras[key] = e
		p.mu.Unlock()
		p.log.Info().Str("connector", c.Slug).Bool("modern", e == EraModern).Msg("probed upstream protocol era")
	}
	return e
}

// probe sends server/discover: a modern server answers with its supported
// versions; a legacy one with an HTTP or JSON-RPC error.
func probe(ctx context.Context, conn *streamhttp.Conn) Era {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	msg, err := mcp.NewRequest(json.RawMessage(`"gatehouse-probe"`), mcp.MethodServerDiscover, map[string]any{
		"_meta": map[string]any{
			mcp.MetaProtocolVersion:    mcp.Version20260728,
			mcp.MetaClientCapabilities: map[string]any{},
			mcp.MetaClientInfo:         map[string]any{"name": "gatehouse", "version": "probe"},
		},
	})
	if err != nil {
		return EraUnknown
	}
	reply, err := conn.Forward(ctx, msg, map[string]string{mcp.HeaderMethod: mcp.MethodServerDiscover, mcp.HeaderProtocolVersion: mcp.Version20260728})
	if err != nil {
		return EraUnknown // unreachable now: ask again next time
	}
	if reply.Status != http.StatusOK {
		return EraLegacy
	}
	var m *mcp.Message
	if reply.Stream != nil {
		defer reply.Stream.Close()
		for {
			next, err := reply.Stream.Next(ctx)
			if err != nil {
				return EraLegacy
			}
			if next.Kind() == mcp.KindResponse {
				m = next
				break
			}
		}
	} else if parsed, perr := mcp.Parse(reply.Body); perr == nil {
		m = parsed
	}
	if m == nil || m.Error != nil || m.Result == nil {
		return EraLegacy
	}
	var r struct {
		SupportedVersions []string `json:"supportedVersions"`
	}
	if json.Unmarshal(m.Result, &r) != nil {
		return EraLegacy
	}
	for _, v := range r.SupportedVersions {
		if v == mcp.Version20260728 {
			return EraModern
		}
	}
	return EraLegacy
}
