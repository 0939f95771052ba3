package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// UpstreamToken is one user's OAuth token at a connector's upstream,
// as the connect flow (core/upstreamauth) obtained it.
type UpstreamToken struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitempty"`
	Scope        string    `json:"scope,omitempty"`
	// Issuer is the authorization server that issued it; Resource the
	// RFC 8707 resource it is bound to.
	Issuer   string `json:"issuer,omitempty"`
	Resource string `json:"resource,omitempty"`
	// The client the token was issued to and the endpoints it was issued
	// by: refresh and revocation use the same ones.
	ClientID      string    `json:"client_id,omitempty"`
	ClientSecret  string    `json:"client_secret,omitempty"`
	AuthMethod    string    `json:"token_endpoint_auth_method,omitempty"`
	TokenURL      string    `json:"token_url,omitempty"`
	RevocationURL string    `json:"revocation_url,omitempty"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// UpstreamClient is a connector's OAuth client at its upstream's
// authorization server, obtained by dynamic client registration.
type UpstreamClient struct {
	Issuer       string    `json:"issuer"`
	ClientID     string    `json:"client_id"`
	ClientSecret string    `json:"client_secret,omitempty"`
	AuthMethod   string    `json:"token_endpoint_auth_method,omitempty"`
	RedirectURI  string    `json:"redirect_uri"`
	CreatedAt    time.Time `json:"created_at"`
}

// UpstreamTokenRepo stores users' upstream OAuth tokens and connectors'
// dynamically registered clients, sealed at rest and bound to where they
// are stored. Keys hang off the connector id (not the slug), so a
// connector re-created under the same slug never inherits tokens.
type UpstreamTokenRepo struct{ s *Store }

// UpstreamTokens returns the upstream OAuth token repository.
func (s *Store) UpstreamTokens() *UpstreamTokenRepo { return &UpstreamTokenRepo{s: s} }

const (
	prefixUpstreamToken  = "utok/"
	prefixUpstreamClient = "uclient/"
)

func upstreamTokenPrefix(connID string) []byte { return []byte(prefixUpstreamToken + connID + "/") }
func upstreamTokenKey(connID, user string) []byte {
	return []byte(prefixUpstreamToken + connID + "/" + user)
}
func upstreamTokenAAD(connID, user string) []byte {
	return []byte("upstream-token/" + connID + "/" + user)
}
func upstreamClientKey(connID string) []byte { return []byte(prefixUpstreamClient + connID) }
func upstreamClientAAD(connID string) []byte { return []byte("upstream-client/" + connID) }

func (r *UpstreamTokenRepo) put(ctx context.Context, key, aad []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return r.s.update(ctx, func(txn *badger.Txn) error {
		return txn.Set(key, r.s.box.Seal(data, aad))
	})
}

func (r *UpstreamTokenRepo) get(ctx context.Context, key, aad []byte, v any) error {
	return r.s.view(ctx, func(txn *badger.Txn) error {
		sealed, err := getValue(txn, key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		data, err := r.s.box.Open(sealed, aad)
		if err != nil {
			return err
		}
		return json.Unmarshal(data, v)
	})
}

// PutToken stores user's token for connector connID, replacing any.
func (r *UpstreamTokenRepo) PutToken(ctx context.Context, connID, user string, t UpstreamToken) error {
	if connID == "" || user == "" {
		return fmt.Errorf("put upstream token: connector id and user are required")
	}
	if err := r.put(ctx, upstreamTokenKey(connID, user), upstreamTokenAAD(connID, user), t); err != nil {
		return fmt.Errorf("put upstream token of %q for connector %s: %w", user, connID, err)
	}
	return nil
}

// Token returns user's token for connector connID; ErrNotFound when the
// user has not connected.
func (r *UpstreamTokenRepo) Token(ctx context.Context, connID, user string) (UpstreamToken, error) {
	var t UpstreamToken
	if err := r.get(ctx, upstreamTokenKey(connID, user), upstreamTokenAAD(connID, user), &t); err != nil {
		return UpstreamToken{}, fmt.Errorf("upstream token of %q for connector %s: %w", user, connID, err)
	}
	return t, nil
}

// DeleteToken removes user's token for connector connID (absent is fine).
func (r *UpstreamTokenRepo) DeleteToken(ctx context.Context, connID, user string) error {
	err := r.s.update(ctx, func(txn *badger.Txn) error { return txn.Delete(upstreamTokenKey(connID, user)) })
	if err != nil {
		return fmt.Errorf("delete upstream token of %q for connector %s: %w", user, connID, err)
	}
	return nil
}

// TokenOwner names one stored token: its connector id and user.
type TokenOwner struct{ ConnectorID, User string }

// Owners lists the stored tokens' owners: of connector connID when it is
// set, else of user (every connector); both set narrows to that pair.
func (r *UpstreamTokenRepo) Owners(ctx context.Context, connID, user string) ([]TokenOwner, error) {
	prefix := []byte(prefixUpstreamToken)
	if connID != "" {
		prefix = upstreamTokenPrefix(connID)
	}
	var out []TokenOwner
	err := r.s.view(ctx, func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = prefix
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			rest := bytes.TrimPrefix(it.Item().Key(), []byte(prefixUpstreamToken))
			id, u, ok := bytes.Cut(rest, []byte("/"))
			if !ok || (user != "" && string(u) != user) {
				continue
			}
			out = append(out, TokenOwner{ConnectorID: string(id), User: string(u)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list upstream tokens: %w", err)
	}
	return out, nil
}

// PutClient stores connector connID's registered client.
func (r *UpstreamTokenRepo) PutClient(ctx context.Context, connID string, c UpstreamClient) error {
	if err := r.put(ctx, upstreamClientKey(connID), upstreamClientAAD(connID), c); err != nil {
		return fmt.Errorf("put upstream client for connector %s: %w", connID, err)
	}
	return nil
}

// Client returns connector connID's registered client; ErrNotFound when
// none was registered.
func (r *UpstreamTokenRepo) Client(ctx context.Context, connID string) (UpstreamClient, error) {
	var c UpstreamClient
	if err := r.get(ctx, upstreamClientKey(connID), upstreamClientAAD(connID), &c); err != nil {
		return UpstreamClient{}, fmt.Errorf("upstream client for connector %s: %w", connID, err)
	}
	return c, nil
}

// DeleteClient removes connector connID's registered client.
func (r *UpstreamTokenRepo) DeleteClient(ctx context.Context, connID string) error {
	err := r.s.update(ctx, func(txn *badger.Txn) error { return txn.Delete(upstreamClientKey(connID)) })
	if err != nil {
		return fmt.Errorf("delete upstream client for connector %s: %w", connID, err)
	}
	return nil
}
