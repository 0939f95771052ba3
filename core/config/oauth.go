package config

import (
	"fmt"
	"strings"
	"time"
)

// OAuthConfig is the OAuth 2.1 authorization server (docs/oauth.md). Its
// issuer is public_url.
type OAuthConfig struct {
	// Enabled serves the authorization server and accepts its access
	// tokens on the MCP endpoints.
	Enabled bool `yaml:"enabled"`
	// AccessTokenTTL is an access token's lifetime.
	AccessTokenTTL time.Duration `yaml:"access_token_ttl"`
	// RefreshTokenTTL is a grant's lifetime: its refresh tokens rotate
	// within it; after it the user signs in again.
	RefreshTokenTTL time.Duration `yaml:"refresh_token_ttl"`
	// CodeTTL is an authorization code's lifetime.
	CodeTTL time.Duration `yaml:"code_ttl"`
	// RegistrationsPerMinute bounds dynamic client registrations (all
	// callers together); a negative value turns registration off.
	RegistrationsPerMinute int `yaml:"registrations_per_minute"`
	// RegistrationsPerIPPerHour bounds dynamic client registrations from
	// one client address in an hour (0: no limit).
	RegistrationsPerIPPerHour int `yaml:"registrations_per_ip_per_hour"`
	// SignInFailuresPerUser and SignInFailuresPerIP are the wrong
	// passwords allowed within SignInWindow for one user name and from one
	// client address before the sign-in form refuses further tries until
	// the window ends (0: no limit).
	SignInFailuresPerUser int           `yaml:"sign_in_failures_per_user"`
	SignInFailuresPerIP   int           `yaml:"sign_in_failures_per_ip"`
	SignInWindow          time.Duration `yaml:"sign_in_window"`
	// KeyRotation is the age at which the access-token signing key is
	// replaced (the old one verifies for the refresh-token lifetime).
	KeyRotation time.Duration `yaml:"key_rotation"`
	// TestTrustCAFile is for tests only: a PEM file of CA certificates
	// trusted, beside the system roots, when fetching client ID metadata
	// documents and enterprise identity providers' keys.
	TestTrustCAFile string `yaml:"test_trust_ca_file"`
	// EnterpriseIdPs are the company identity providers whose identity
	// assertion grants (ID-JAG, enterprise-managed authorization) the
	// token endpoint redeems for access tokens, with no sign-in page.
	EnterpriseIdPs []EnterpriseIdPConfig `yaml:"enterprise_idps"`
	// OIDC offers sign-in at the company's OpenID Connect identity
	// provider on the sign-in page, beside passwords. Register the
	// gateway there with the redirect URI <public_url>/oauth/oidc/callback.
	OIDC OIDCConfig `yaml:"oidc"`
}

// OIDCConfig is the upstream OpenID Connect identity provider for sign-in
// (off while issuer is empty).
type OIDCConfig struct {
	// Name is shown on the button: "Sign in with <name>".
	Name string `yaml:"name"`
	// Issuer is the provider's https issuer URL (discovery at
	// <issuer>/.well-known/openid-configuration).
	Issuer string `yaml:"issuer"`
	// ClientID is the gateway's client at the provider.
	ClientID string `yaml:"client_id"`
	// ClientSecret is its secret; prefer GATEHOUSE_OAUTH_OIDC_CLIENT_SECRET
	// over writing it here.
	ClientSecret string `yaml:"client_secret"`
	// UserClaim is the ID token claim naming the Gatehouse user: email
	// (default; an address the provider marks unverified is refused), sub
	// or preferred_username. The user must exist and be enabled.
	UserClaim string `yaml:"user_claim"`
	// Scopes asked for (default openid email profile).
	Scopes []string `yaml:"scopes"`
}

// EnterpriseIdPConfig is one trusted enterprise identity provider.
type EnterpriseIdPConfig struct {
	// Issuer is the IdP's issuer identifier, exactly as in its assertions.
	Issuer string `yaml:"issuer"`
	// JWKSURI is the https URL of the IdP's signing keys.
	JWKSURI string `yaml:"jwks_uri"`
	// UserClaim is the assertion claim that names the Gatehouse user:
	// sub (default) or email. The user must exist and be enabled.
	UserClaim string `yaml:"user_claim"`
	// Clients, when set, are the only OAuth client_ids that may present
	// this IdP's assertions.
	Clients []string `yaml:"clients"`
}

// DefaultOAuth is the authorization server's default configuration.
func DefaultOAuth() OAuthConfig {
	return OAuthConfig{Enabled: true, AccessTokenTTL: time.Hour, RefreshTokenTTL: 30 * 24 * time.Hour,
		CodeTTL: time.Minute, RegistrationsPerMinute: 20, KeyRotation: 30 * 24 * time.Hour,
		SignInFailuresPerUser: 10, SignInFailuresPerIP: 50, SignInWindow: 15 * time.Minute, RegistrationsPerIPPerHour: 30}
}

// validate checks the OAuth settings.
func (o OAuthConfig) validate() error {
	for name, d := range map[string]time.Duration{"oauth.access_token_ttl": o.AccessTokenTTL,
		"oauth.refresh_token_ttl": o.RefreshTokenTTL, "oauth.code_ttl": o.CodeTTL, "oauth.key_rotation": o.KeyRotation,
		"oauth.sign_in_window": o.SignInWindow} {
		if d <= 0 {
			return fmt.Errorf("%w: %s must be positive", ErrInvalid, name)
		}
	}
	if o.SignInFailuresPerUser < 0 || o.SignInFailuresPerIP < 0 || o.RegistrationsPerIPPerHour < 0 {
		return fmt.Errorf("%w: oauth.sign_in_failures_per_user, _per_ip and oauth.registrations_per_ip_per_hour must not be negative (0: no limit)", ErrInvalid)
	}
	if o.CodeTTL > 10*time.Minute {
		return fmt.Errorf("%w: oauth.code_ttl must be at most 10m (codes are short-lived)", ErrInvalid)
	}
	if c := o.OIDC; c.Issuer != "" || c.ClientID != "" {
		switch {
		case !strings.HasPrefix(c.Issuer, "https://"):
			return fmt.Errorf("%w: oauth.oidc.issuer must be an https URL", ErrInvalid)
		case c.ClientID == "":
			return fmt.Errorf("%w: oauth.oidc.client_id is required", ErrInvalid)
		case c.UserClaim != "" && c.UserClaim != "email" && c.UserClaim != "sub" && c.UserClaim != "preferred_username":
			return fmt.Errorf("%w: oauth.oidc.user_claim must be email, sub or preferred_username", ErrInvalid)
		}
	}
	for i, idp := range o.EnterpriseIdPs {
		switch {
		case idp.Issuer == "":
			return fmt.Errorf("%w: oauth.enterprise_idps[%d].issuer is required", ErrInvalid, i)
		case !strings.HasPrefix(idp.JWKSURI, "https://"):
			return fmt.Errorf("%w: oauth.enterprise_idps[%d].jwks_uri must be an https URL", ErrInvalid, i)
		case idp.UserClaim != "" && idp.UserClaim != "sub" && idp.UserClaim != "email":
			return fmt.Errorf("%w: oauth.enterprise_idps[%d].user_claim must be sub or email", ErrInvalid, i)
		}
	}
	if o.AccessTokenTTL > o.RefreshTokenTTL {
		return fmt.Errorf("%w: oauth.access_token_ttl must not exceed oauth.refresh_token_ttl", ErrInvalid)
	}
	return nil
}
