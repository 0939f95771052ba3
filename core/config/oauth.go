package config

import (
	"fmt"
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
	// KeyRotation is the age at which the access-token signing key is
	// replaced (the old one verifies for the refresh-token lifetime).
	KeyRotation time.Duration `yaml:"key_rotation"`
	// TestTrustCAFile is for tests only: a PEM file of CA certificates
	// trusted, beside the system roots, when fetching client ID metadata
	// documents.
	TestTrustCAFile string `yaml:"test_trust_ca_file"`
}

// DefaultOAuth is the authorization server's default configuration.
func DefaultOAuth() OAuthConfig {
	return OAuthConfig{Enabled: true, AccessTokenTTL: time.Hour, RefreshTokenTTL: 30 * 24 * time.Hour,
		CodeTTL: time.Minute, RegistrationsPerMinute: 20, KeyRotation: 30 * 24 * time.Hour}
}

// validate checks the OAuth settings.
func (o OAuthConfig) validate() error {
	for name, d := range map[string]time.Duration{"oauth.access_token_ttl": o.AccessTokenTTL,
		"oauth.refresh_token_ttl": o.RefreshTokenTTL, "oauth.code_ttl": o.CodeTTL, "oauth.key_rotation": o.KeyRotation} {
		if d <= 0 {
			return fmt.Errorf("%w: %s must be positive", ErrInvalid, name)
		}
	}
	if o.CodeTTL > 10*time.Minute {
		return fmt.Errorf("%w: oauth.code_ttl must be at most 10m (codes are short-lived)", ErrInvalid)
	}
	if o.AccessTokenTTL > o.RefreshTokenTTL {
		return fmt.Errorf("%w: oauth.access_token_ttl must not exceed oauth.refresh_token_ttl", ErrInvalid)
	}
	return nil
}
