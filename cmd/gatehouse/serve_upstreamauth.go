package main

import (
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/config"
	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/store"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/netguard"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/streamhttp"
	"github.com/gatehouse-mcp/gatehouse/core/upstreamauth"
)

// newUpstreamAuth is the gateway's upstream OAuth client. Its requests
// (discovery, registration, tokens, revocation) go through the SSRF guard
// like the connectors' own, and never follow redirects.
func newUpstreamAuth(cfg config.Config, st *store.Store, registry *connector.Registry, exceptions *netguard.Exceptions, log zerolog.Logger) *upstreamauth.Service {
	client := streamhttp.NewClient()
	client.Timeout = 30 * time.Second
	if !cfg.Upstream.AllowPrivateNetworks {
		client.Transport.(*http.Transport).DialContext = exceptions.DialContext
	}
	return upstreamauth.New(st.UpstreamTokens(), registry, upstreamauth.Options{
		PublicURL: cfg.BaseURL(),
		HTTP:      client,
		Log:       log.With().Str("component", "upstreamauth").Logger(),
	})
}
