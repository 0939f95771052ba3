package main

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/gatehouse-mcp/gatehouse/core/auth/keys"
	"github.com/gatehouse-mcp/gatehouse/core/config"
	"github.com/gatehouse-mcp/gatehouse/core/identity"
	"github.com/gatehouse-mcp/gatehouse/core/store"
)

// setupIdentity builds identity forward: its signing-key ring (its own
// purpose, so an identity JWT is never an access token; rotated by age in
// the background until ctx ends, and on demand through the admin API),
// the forwarder the proxy asks for each request's identity headers, and
// the handler publishing the ring's JWKS at identity.JWKSPath.
func setupIdentity(ctx context.Context, cfg config.Config, st *store.Store, dir store.Directory, log zerolog.Logger) (*identity.Forwarder, *keys.Ring, fasthttp.RequestHandler, error) {
	ring, err := keys.Open(ctx, st.OAuth(), keys.Config{Purpose: identity.Purpose})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("identity forward signing keys: %w", err)
	}
	go ring.Run(ctx, time.Hour, func(err error) { log.Error().Err(err).Msg("identity forward: key rotation failed") })
	fwd := identity.New(dir, ring, identity.Options{Issuer: cfg.BaseURL(), NotFound: store.ErrNotFound})
	jwks := func(ctx *fasthttp.RequestCtx) {
		if !ctx.IsGet() && !ctx.IsHead() {
			ctx.Response.Header.Set("Allow", "GET, HEAD")
			ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
			return
		}
		ctx.SetContentType("application/jwk-set+json")
		// Short: an upstream that meets an unknown kid refetches anyway,
		// and a rotation should reach caches within minutes.
		ctx.Response.Header.Set("Cache-Control", "public, max-age=300")
		ctx.SetBody(ring.JWKS())
	}
	return fwd, ring, jwks, nil
}
