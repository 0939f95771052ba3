package oauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// CIMDConfig bounds the fetching of Client ID Metadata Documents.
type CIMDConfig struct {
	// MaxBytes bounds a document (default 5 KiB, as the CIMD draft
	// suggests).
	MaxBytes int64
	// Timeout bounds one fetch, connection included (default 5 s).
	Timeout time.Duration
	// CacheTTL is how long a fetched document is reused (default 5 min).
	CacheTTL time.Duration
	// CacheEntries bounds the cache (default 1000 documents).
	CacheEntries int
}

func (c CIMDConfig) withDefaults() CIMDConfig {
	if c.MaxBytes <= 0 {
		c.MaxBytes = 5 << 10
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.CacheTTL <= 0 {
		c.CacheTTL = 5 * time.Minute
	}
	if c.CacheEntries <= 0 {
		c.CacheEntries = 1000
	}
	return c
}

// DocumentFetcher fetches a client metadata document's bytes.
type DocumentFetcher interface {
	Fetch(ctx context.Context, url string) ([]byte, error)
}

// Errors of a fetch, for tests and audit details.
var (
	ErrDocRedirect = errors.New("the client metadata document URL redirects (redirects are not followed)")
	ErrDocTooLarge = errors.New("the client metadata document is too large")
	ErrDocStatus   = errors.New("the client metadata document could not be fetched")
	ErrDocTimeout  = errors.New("the client metadata document host did not answer in time")
)

// Fetcher fetches CIMD documents over HTTPS through a guarded dialer
// (core/upstream/netguard: no private or reserved addresses), with no
// proxy, no redirects, and size and time limits.
type Fetcher struct {
	client   *http.Client
	maxBytes int64
	timeout  time.Duration
}

// NewFetcher builds a Fetcher dialling with dial (the SSRF guard's
// DialContext) and trusting roots (nil: the system roots; a test CA is
// added through the config's test-only knob).
func NewFetcher(dial func(ctx context.Context, network, addr string) (net.Conn, error), roots *x509.CertPool, cfg CIMDConfig) *Fetcher {
	cfg = cfg.withDefaults()
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dial,
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConns:          8,
		IdleConnTimeout:       30 * time.Second,
		DisableCompression:    true,
	}
	return &Fetcher{
		client: &http.Client{Transport: tr, Timeout: cfg.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		maxBytes: cfg.MaxBytes,
		timeout:  cfg.Timeout,
	}
}

// Fetch GETs u and returns its body.
func (f *Fetcher) Fetch(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			return nil, fmt.Errorf("%w: no answer within %s (%v)", ErrDocTimeout, f.timeout, err)
		}
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, fmt.Errorf("%w: HTTP %d to %q", ErrDocRedirect, resp.StatusCode, resp.Header.Get("Location"))
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: HTTP %d", ErrDocStatus, resp.StatusCode)
	case resp.ContentLength > f.maxBytes:
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrDocTooLarge, resp.ContentLength, f.maxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > f.maxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrDocTooLarge, f.maxBytes)
	}
	return body, nil
}

// checkCIMDURL applies the CIMD draft's rules to a client_id URL: https,
// a host, a path, no fragment, userinfo or dot segments.
func checkCIMDURL(id string) error {
	u, err := url.Parse(id)
	switch {
	case err != nil:
		return fmt.Errorf("client_id %q is not a URL: %w", id, err)
	case u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("client_id %q: a metadata document URL must be https with a host", id)
	case u.User != nil || u.Fragment != "" || strings.Contains(id, "#"):
		return fmt.Errorf("client_id %q: no userinfo or fragment allowed", id)
	case u.Path == "" || u.Path == "/":
		return fmt.Errorf("client_id %q: the URL must have a path", id)
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("client_id %q: no dot segments allowed", id)
		}
	}
	return nil
}

// clientCache keeps fetched CIMD clients for a while, bounded.
type clientCache struct {
	cfg CIMDConfig
	now func() time.Time

	mu      sync.Mutex
	entries map[string]cachedClient
}

type cachedClient struct {
	c       *Client
	expires time.Time
}

func newClientCache(cfg CIMDConfig, now func() time.Time) *clientCache {
	return &clientCache{cfg: cfg, now: now, entries: map[string]cachedClient{}}
}

func (cc *clientCache) get(id string) *Client {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	e, ok := cc.entries[id]
	if !ok || !cc.now().Before(e.expires) {
		delete(cc.entries, id)
		return nil
	}
	return e.c
}

func (cc *clientCache) put(id string, c *Client) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	now := cc.now()
	if len(cc.entries) >= cc.cfg.CacheEntries {
		for k, e := range cc.entries {
			if !now.Before(e.expires) || len(cc.entries) >= cc.cfg.CacheEntries {
				delete(cc.entries, k)
			}
		}
	}
	cc.entries[id] = cachedClient{c: c, expires: now.Add(cc.cfg.CacheTTL)}
}

// cimdClient fetches (or reuses) the metadata document client_id names and
// checks it: its client_id must equal the URL exactly, it must list
// redirect URIs, and it may not use a shared secret.
func (s *Server) cimdClient(ctx context.Context, id string) (*Client, *Error) {
	if c := s.clients.get(id); c != nil {
		return c, nil
	}
	if err := checkCIMDURL(id); err != nil {
		return nil, oerr(ErrInvalidClient, err.Error())
	}
	if s.d.Fetch == nil {
		return nil, oerr(ErrInvalidClient, "client ID metadata documents are not enabled on this gateway")
	}
	fctx, cancel := context.WithTimeout(ctx, s.cfg.CIMD.Timeout)
	defer cancel()
	body, err := s.d.Fetch.Fetch(fctx, id)
	if err != nil {
		return nil, oerr(ErrInvalidClient, "fetch client metadata document "+id+": "+err.Error())
	}
	var c Client
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, oerr(ErrInvalidClient, "client metadata document "+id+" is not a JSON object: "+err.Error())
	}
	if c.ID != id {
		return nil, oerr(ErrInvalidClient, fmt.Sprintf("client metadata document %s names client_id %q; it must equal the document's URL exactly", id, c.ID))
	}
	if len(c.RedirectURIs) == 0 {
		return nil, oerr(ErrInvalidClient, "client metadata document "+id+" lists no redirect_uris")
	}
	if c.TokenEndpointAuthMethod == "" {
		c.TokenEndpointAuthMethod = "none"
	}
	if c.TokenEndpointAuthMethod != "none" {
		return nil, oerr(ErrInvalidClient, "client metadata document "+id+": token_endpoint_auth_method must be none (shared secrets are not allowed for metadata-document clients)")
	}
	for _, r := range c.RedirectURIs {
		if err := checkRedirectSyntax(r, c.ApplicationType); err != nil {
			return nil, oerr(ErrInvalidClient, "client metadata document "+id+": "+err.Error())
		}
	}
	if e := checkGrantTypes(&c); e != nil {
		return nil, oerr(ErrInvalidClient, "client metadata document "+id+": "+e.Description)
	}
	c.SecretDigest, c.Source = "", SourceCIMD
	s.clients.put(id, &c)
	return &c, nil
}
