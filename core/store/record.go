package store

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// newID returns 16 random bytes as hex.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return hex.EncodeToString(b)
}

// encodeConnector returns the stored form of c: its JSON with every secret
// sealed under an aad naming the connector id and the field, so a ciphertext
// copied to another connector or field fails to open.
func (s *Store) encodeConnector(c *connector.Connector) ([]byte, error) {
	rec := *c
	rec.Auth.Token = s.sealString(c.Auth.Token, connFieldAAD(c.ID, "auth.token"))
	rec.Env = s.sealMap(c.Env, c.ID, "env/")
	rec.Headers = s.sealMap(c.Headers, c.ID, "headers/")
	if c.Auth.OAuth2 != nil {
		o := *c.Auth.OAuth2
		o.ClientSecret = s.sealString(o.ClientSecret, connFieldAAD(c.ID, "auth.oauth2.client_secret"))
		rec.Auth.OAuth2 = &o
	}
	data, err := json.Marshal(&rec)
	if err != nil {
		return nil, fmt.Errorf("encode connector %q: %w", c.Slug, err)
	}
	return data, nil
}

// decodeConnector reverses encodeConnector. A secret that does not open
// yields an error wrapping secret.ErrDecrypt that names the field, never the
// value; callers add the slug.
func (s *Store) decodeConnector(data []byte) (*connector.Connector, error) {
	var c connector.Connector
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("decode connector: %w", err)
	}
	if err := s.openSecrets(&c); err != nil {
		return nil, fmt.Errorf("connector %q: %w", c.Slug, err)
	}
	return &c, nil
}

func (s *Store) openSecrets(c *connector.Connector) error {
	var err error
	if c.Auth.Token, err = s.openString(c.Auth.Token, connFieldAAD(c.ID, "auth.token")); err != nil {
		return fmt.Errorf("auth.token: %w", err)
	}
	if o := c.Auth.OAuth2; o != nil {
		if o.ClientSecret, err = s.openString(o.ClientSecret, connFieldAAD(c.ID, "auth.oauth2.client_secret")); err != nil {
			return fmt.Errorf("auth.oauth2.client_secret: %w", err)
		}
	}
	if err := s.openMap(c.Env, c.ID, "env/"); err != nil {
		return err
	}
	return s.openMap(c.Headers, c.ID, "headers/")
}

func (s *Store) sealString(v string, aad []byte) string {
	if v == "" {
		return ""
	}
	return base64.RawStdEncoding.EncodeToString(s.box.Seal([]byte(v), aad))
}

func (s *Store) openString(v string, aad []byte) (string, error) {
	if v == "" {
		return "", nil
	}
	sealed, err := base64.RawStdEncoding.DecodeString(v)
	if err != nil {
		return "", fmt.Errorf("stored secret is not base64: %w", err)
	}
	plain, err := s.box.Open(sealed, aad)
	if err != nil {
		return "", err
	}
	return string(plain), nil
}

// sealMap returns a new map; the caller's map is left as it was.
func (s *Store) sealMap(m map[string]string, id, field string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = s.sealString(v, connFieldAAD(id, field+k))
	}
	return out
}

// openMap decrypts m in place; m was freshly decoded and is not shared.
func (s *Store) openMap(m map[string]string, id, field string) error {
	for k, v := range m {
		plain, err := s.openString(v, connFieldAAD(id, field+k))
		if err != nil {
			return fmt.Errorf("%s%s: %w", field, k, err)
		}
		m[k] = plain
	}
	return nil
}
