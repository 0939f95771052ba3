// Package oidcpeer runs an OpenID Connect provider for tests:
// github.com/oauth2-proxy/mockoidc (discovery, JWKS, authorization code
// with PKCE and nonce, written by the oauth2-proxy project), over TLS.
package oidcpeer

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

// Provider is a running provider and the trust it needs.
type Provider struct {
	*mockoidc.MockOIDC
	// Roots trusts the provider's certificate; CAPEM is the same
	// certificate PEM-encoded (for a gateway's test_trust_ca_file).
	Roots *x509.CertPool
	CAPEM []byte
}

// Start runs a provider until the test ends. mockoidc's own TLS mode
// serves plain HTTP under an https issuer, so the listener does the TLS.
func Start(t testing.TB) *Provider {
	t.Helper()
	certs := httptest.NewUnstartedServer(http.NotFoundHandler())
	certs.StartTLS()
	tlsCfg := certs.TLS.Clone()
	cert := certs.Certificate()
	certs.Close()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(tls.NewListener(ln, tlsCfg), tlsCfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &Provider{MockOIDC: m, Roots: pool, CAPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})}
}

// Transport trusts the provider.
func (p *Provider) Transport() *http.Transport {
	return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.Roots}}
}
