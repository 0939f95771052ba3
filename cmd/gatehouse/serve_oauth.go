package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/gatehouse-mcp/gatehouse/admin"
	"github.com/gatehouse-mcp/gatehouse/core/auth"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
	"github.com/gatehouse-mcp/gatehouse/core/auth/keys"
	"github.com/gatehouse-mcp/gatehouse/core/auth/oauth"
	"github.com/gatehouse-mcp/gatehouse/core/config"
	"github.com/gatehouse-mcp/gatehouse/core/store"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/netguard"
)

// setupOAuth builds the OAuth authorization server (nil when disabled):
// its signing-key ring (rotated in the background until ctx ends), the
// CIMD fetcher behind the SSRF guard, and the redirect-URI rules.
func setupOAuth(ctx context.Context, cfg config.Config, st *store.Store, dir store.Directory, auditLog *audit.Log,
	exceptions *netguard.Exceptions, redirects oauth.RedirectRules, log zerolog.Logger) (*oauth.Server, error) {
	if !cfg.OAuth.Enabled {
		return nil, nil
	}
	o := cfg.OAuth
	ring, err := keys.Open(ctx, st.OAuth(), keys.Config{Purpose: "oauth-access", RotateAfter: o.KeyRotation,
		VerifyFor: max(2*o.AccessTokenTTL, 24*time.Hour)})
	if err != nil {
		return nil, fmt.Errorf("oauth signing keys: %w", err)
	}
	go ring.Run(ctx, time.Hour, func(err error) { log.Error().Err(err).Msg("oauth: key rotation failed") })

	dial := exceptions.DialContext
	if cfg.Upstream.AllowPrivateNetworks {
		dial = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if o.TestTrustCAFile != "" {
		pem, err := os.ReadFile(o.TestTrustCAFile)
		if err != nil {
			return nil, fmt.Errorf("oauth.test_trust_ca_file: %w", err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("oauth.test_trust_ca_file %s: no PEM certificate in it", o.TestTrustCAFile)
		}
		log.Warn().Str("file", o.TestTrustCAFile).Msg("oauth: trusting a test CA for client metadata documents and enterprise IdP keys")
	}
	ocfg := oauth.Config{Issuer: cfg.BaseURL(), AccessTTL: o.AccessTokenTTL, RefreshTTL: o.RefreshTokenTTL, CodeTTL: o.CodeTTL,
		RegistrationsPerMinute: o.RegistrationsPerMinute, SignInWindow: o.SignInWindow,
		SignInFailuresPerUser: noLimitIsNegative(o.SignInFailuresPerUser), SignInFailuresPerIP: noLimitIsNegative(o.SignInFailuresPerIP),
		RegistrationsPerIPPerHour: noLimitIsNegative(o.RegistrationsPerIPPerHour)}
	if o.OIDC.Issuer != "" {
		// The identity provider is the organisation's own choice, often on
		// its private network: dialled directly, with the same trust roots.
		ocfg.OIDC = &oauth.OIDCConfig{Name: o.OIDC.Name, Issuer: o.OIDC.Issuer, ClientID: o.OIDC.ClientID,
			ClientSecret: o.OIDC.ClientSecret, UserClaim: o.OIDC.UserClaim, Scopes: o.OIDC.Scopes,
			HTTPClient: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, Proxy: http.ProxyFromEnvironment}}}
	}
	for _, idp := range o.EnterpriseIdPs {
		ocfg.EnterpriseIdPs = append(ocfg.EnterpriseIdPs, oauth.EnterpriseIdP{Issuer: idp.Issuer, JWKSURI: idp.JWKSURI,
			UserClaim: idp.UserClaim, Clients: idp.Clients})
	}
	return oauth.New(ctx, ocfg, oauth.Deps{
		Store: st.OAuth(), Keys: ring, Users: dir, Audit: auditLog,
		// Every redirect URI is decided by the organisation's rules
		// (core/auth/redirect): blocked wins, unknown ones pause.
		Redirects: redirects,
		Fetch:     oauth.NewFetcher(dial, roots, ocfg.CIMD),
		// The enterprise IdPs' key sets: the same guard and trust, a
		// key set's size bound.
		FetchKeys: oauth.NewFetcher(dial, roots, oauth.CIMDConfig{MaxBytes: 64 << 10}),
		Log:       log.With().Str("component", "oauth").Logger(),
	})
}

// noLimitIsNegative maps the config's "0: no limit" to oauth.Config's
// "negative: no limit" (its zero means the default).
func noLimitIsNegative(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// oauthWiring adds the server's token validation to the authenticator
// and returns its admin half and its HTTP handler (nils when disabled,
// so the admin API and the router see no server at all).
func oauthWiring(s *oauth.Server, authn *auth.Authenticator) (admin.OAuthAdmin, fasthttp.RequestHandler) {
	if s == nil {
		return nil, nil
	}
	authn.WithProviders(s)
	return s, fasthttpadaptor.NewFastHTTPHandler(s)
}
