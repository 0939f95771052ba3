// Package keys keeps a ring of signing keys for one purpose (OAuth access
// tokens, identity-forward JWTs): the current key signs, the keys it
// replaced keep verifying for a while, and the public half of each is
// published as a JWKS document. Keys are generated here, stored sealed
// (core/secret, through the Store) and rotated by age or on demand. All
// JOSE work is github.com/go-jose/go-jose/v4; nothing here is hand-rolled
// crypto.
package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Store keeps the ring's keys; store.OAuthRepo satisfies it. Values put
// with sealed=true are encrypted at rest.
type Store interface {
	Put(ctx context.Context, kind, id string, value []byte, ttl time.Duration, sealed bool) error
	List(ctx context.Context, kind string) (map[string][]byte, error)
	Delete(ctx context.Context, kind, id string) error
}

// Errors callers branch on with errors.Is.
var (
	// ErrUnknownKey: the token names a key id the ring does not hold
	// (never had, or dropped after its verification window).
	ErrUnknownKey = errors.New("signing key not known")
	// ErrBadToken: the token is not a compact JWS of the ring's
	// algorithm, its signature does not verify, or its type is wrong.
	ErrBadToken = errors.New("token signature invalid")
)

// Defaults for Config's zero values.
const (
	DefaultAlgorithm   = jose.ES256
	DefaultRotateAfter = 30 * 24 * time.Hour
	DefaultVerifyFor   = 7 * 24 * time.Hour
)

// Config describes one ring.
type Config struct {
	// Purpose names the ring ("oauth-access", "identity-forward"); each
	// purpose has its own keys, so a token of one is never valid as the
	// other. 1-40 characters from [a-z0-9-].
	Purpose string
	// Algorithm signs new keys' tokens: ES256 (default), ES384 or EdDSA.
	Algorithm jose.SignatureAlgorithm
	// RotateAfter is the age at which Maintain replaces the current key.
	RotateAfter time.Duration
	// VerifyFor is how long a replaced key still verifies and stays in
	// the JWKS document after its successor took over. It must exceed the
	// longest lifetime of a token the ring signs.
	VerifyFor time.Duration
	// Now is the clock (tests set it); time.Now when nil.
	Now func() time.Time
}

// record is a stored key: the private JWK (sealed at rest by the Store).
type record struct {
	JWK     json.RawMessage `json:"jwk"`
	Created time.Time       `json:"created"`
}

type key struct {
	kid     string
	private jose.JSONWebKey
	public  jose.JSONWebKey
	signer  jose.Signer // typ JWT
	created time.Time

	// typed holds the signers of other typ headers, made on first use
	// (a signer per Sign call was most of a signature's cost).
	typed sync.Map // typ → jose.Signer
}

// signerFor is the key's signer with typ in its header.
func (k *key) signerFor(typ string) (jose.Signer, error) {
	if typ == "" || typ == "JWT" {
		return k.signer, nil
	}
	if s, ok := k.typed.Load(typ); ok {
		return s.(jose.Signer), nil
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.private.Algorithm), Key: k.private},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader(jose.HeaderKey("kid"), k.kid))
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	actual, _ := k.typed.LoadOrStore(typ, s)
	return actual.(jose.Signer), nil
}

// Ring is the key ring of one purpose. It is safe for concurrent use.
type Ring struct {
	st   Store
	cfg  Config
	kind string

	mu   sync.RWMutex
	keys []*key // oldest first; the last one is current
	byID map[string]*key
	jwks []byte
}

// Open loads the purpose's keys from st, creating the first one when
// there is none, then runs Maintain (rotation by age, dropping keys past
// their verification window).
func Open(ctx context.Context, st Store, cfg Config) (*Ring, error) {
	if err := checkPurpose(cfg.Purpose); err != nil {
		return nil, err
	}
	if cfg.Algorithm == "" {
		cfg.Algorithm = DefaultAlgorithm
	}
	if _, err := generate(cfg.Algorithm); err != nil {
		return nil, err
	}
	if cfg.RotateAfter <= 0 {
		cfg.RotateAfter = DefaultRotateAfter
	}
	if cfg.VerifyFor <= 0 {
		cfg.VerifyFor = DefaultVerifyFor
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Ring{st: st, cfg: cfg, kind: "key-" + cfg.Purpose}
	if err := r.load(ctx); err != nil {
		return nil, err
	}
	if _, err := r.Maintain(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func checkPurpose(p string) error {
	if p == "" || len(p) > 40 {
		return fmt.Errorf("key ring purpose %q: must be 1-40 characters", p)
	}
	for _, c := range p {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return fmt.Errorf("key ring purpose %q: only a-z, 0-9 and '-'", p)
		}
	}
	return nil
}

// Purpose names the ring.
func (r *Ring) Purpose() string { return r.cfg.Purpose }

// Algorithm is the signature algorithm of the ring's tokens.
func (r *Ring) Algorithm() jose.SignatureAlgorithm { return r.cfg.Algorithm }

func (r *Ring) load(ctx context.Context) error {
	stored, err := r.st.List(ctx, r.kind)
	if err != nil {
		return fmt.Errorf("load %s keys: %w", r.cfg.Purpose, err)
	}
	var ks []*key
	for id, raw := range stored {
		var rec record
		if err := json.Unmarshal(raw, &rec); err != nil {
			return fmt.Errorf("load %s key %s: %w", r.cfg.Purpose, id, err)
		}
		k, err := newKey(rec, r.cfg.Algorithm)
		if err != nil {
			return fmt.Errorf("load %s key %s: %w", r.cfg.Purpose, id, err)
		}
		ks = append(ks, k)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.setKeys(ks)
	return nil
}

// setKeys installs ks (any order) and rebuilds the index and JWKS; r.mu
// must be held for writing.
func (r *Ring) setKeys(ks []*key) {
	slices.SortFunc(ks, func(a, b *key) int {
		if c := a.created.Compare(b.created); c != 0 {
			return c
		}
		return compareStrings(a.kid, b.kid)
	})
	r.keys = ks
	r.byID = make(map[string]*key, len(ks))
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(ks))}
	for i := len(ks) - 1; i >= 0; i-- { // current first
		r.byID[ks[i].kid] = ks[i]
		set.Keys = append(set.Keys, ks[i].public)
	}
	r.jwks, _ = json.Marshal(set) // public ECDSA/Ed25519 JWKs always marshal
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func newKey(rec record, alg jose.SignatureAlgorithm) (*key, error) {
	var priv jose.JSONWebKey
	if err := priv.UnmarshalJSON(rec.JWK); err != nil {
		return nil, fmt.Errorf("decode key: %w", err)
	}
	if priv.IsPublic() {
		return nil, errors.New("stored key has no private part")
	}
	if priv.Algorithm != string(alg) {
		// A ring whose algorithm changed keeps verifying its old keys
		// with their own algorithm; only new keys use the new one.
		alg = jose.SignatureAlgorithm(priv.Algorithm)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: priv},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), priv.KeyID))
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	return &key{kid: priv.KeyID, private: priv, public: priv.Public(), signer: signer, created: rec.Created}, nil
}

// generate makes a private key for alg.
func generate(alg jose.SignatureAlgorithm) (crypto.PrivateKey, error) {
	switch alg {
	case jose.ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.ES384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case jose.EdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	default:
		return nil, fmt.Errorf("signing algorithm %q not supported (ES256, ES384, EdDSA)", alg)
	}
}

// Rotate makes a new current key now; the previous ones keep verifying
// for VerifyFor.
func (r *Ring) Rotate(ctx context.Context) error {
	priv, err := generate(r.cfg.Algorithm)
	if err != nil {
		return err
	}
	jwk := jose.JSONWebKey{Key: priv, Algorithm: string(r.cfg.Algorithm), Use: "sig"}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return fmt.Errorf("key thumbprint: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	raw, err := jwk.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encode key: %w", err)
	}
	rec := record{JWK: raw, Created: r.cfg.Now().UTC()}
	k, err := newKey(rec, r.cfg.Algorithm)
	if err != nil {
		return err
	}
	val, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode key record: %w", err)
	}
	if err := r.st.Put(ctx, r.kind, k.kid, val, 0, true); err != nil {
		return fmt.Errorf("store %s key: %w", r.cfg.Purpose, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.setKeys(append(slices.Clone(r.keys), k))
	return nil
}

// Maintain rotates the current key when it is older than RotateAfter (or
// when there is none) and drops keys whose successor took over more than
// VerifyFor ago. It reports whether it rotated.
func (r *Ring) Maintain(ctx context.Context) (bool, error) {
	now := r.cfg.Now()
	r.mu.RLock()
	ks := slices.Clone(r.keys)
	r.mu.RUnlock()
	rotated := false
	if len(ks) == 0 || now.Sub(ks[len(ks)-1].created) >= r.cfg.RotateAfter {
		if err := r.Rotate(ctx); err != nil {
			return false, err
		}
		rotated = true
		r.mu.RLock()
		ks = slices.Clone(r.keys)
		r.mu.RUnlock()
	}
	var drop []*key
	for i := 0; i+1 < len(ks); i++ {
		if now.Sub(ks[i+1].created) > r.cfg.VerifyFor {
			drop = append(drop, ks[i])
		}
	}
	for _, k := range drop {
		if err := r.st.Delete(ctx, r.kind, k.kid); err != nil {
			return rotated, fmt.Errorf("drop %s key %s: %w", r.cfg.Purpose, k.kid, err)
		}
	}
	if len(drop) > 0 {
		r.mu.Lock()
		kept := slices.DeleteFunc(slices.Clone(r.keys), func(k *key) bool { return slices.Contains(drop, k) })
		r.setKeys(kept)
		r.mu.Unlock()
	}
	return rotated, nil
}

// Run calls Maintain every interval until ctx ends, reporting failures
// to onErr (a failed rotation is retried at the next tick).
func (r *Ring) Run(ctx context.Context, every time.Duration, onErr func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := r.Maintain(ctx); err != nil && onErr != nil {
				onErr(err)
			}
		}
	}
}

// CurrentKeyID is the id (RFC 7638 thumbprint) of the signing key.
func (r *Ring) CurrentKeyID() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.keys[len(r.keys)-1].kid
}

// Sign serialises claims (structs or maps, merged in order, as jwt.Builder
// does) as a compact JWS signed with the current key, with headers typ
// (e.g. "at+jwt"; "JWT" when empty) and kid.
func (r *Ring) Sign(typ string, claims ...any) (string, error) {
	r.mu.RLock()
	k := r.keys[len(r.keys)-1]
	r.mu.RUnlock()
	signer, err := k.signerFor(typ)
	if err != nil {
		return "", err
	}
	b := jwt.Signed(signer)
	for _, c := range claims {
		b = b.Claims(c)
	}
	tok, err := b.Serialize()
	if err != nil {
		return "", fmt.Errorf("sign %s token: %w", r.cfg.Purpose, err)
	}
	return tok, nil
}

// Verify checks token's signature against the ring key its kid names and
// its typ header (when typ is not empty; compared case-insensitively as
// RFC 7515 allows for media types), then decodes its claims into out.
// It checks no claim (iss, exp, aud): that is the caller's policy.
func (r *Ring) Verify(token, typ string, out ...any) error {
	algs := []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.EdDSA}
	tok, err := jwt.ParseSigned(token, algs)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	if len(tok.Headers) != 1 {
		return fmt.Errorf("%w: want one signature", ErrBadToken)
	}
	h := tok.Headers[0]
	if typ != "" {
		got, _ := h.ExtraHeaders[jose.HeaderType].(string)
		if !strings.EqualFold(got, typ) {
			return fmt.Errorf("%w: type %q, want %q", ErrBadToken, got, typ)
		}
	}
	r.mu.RLock()
	k := r.byID[h.KeyID]
	r.mu.RUnlock()
	if k == nil {
		return fmt.Errorf("%w: %q", ErrUnknownKey, h.KeyID)
	}
	if h.Algorithm != k.private.Algorithm {
		return fmt.Errorf("%w: algorithm %q does not match key %s", ErrBadToken, h.Algorithm, k.kid)
	}
	if err := tok.Claims(k.public.Key, out...); err != nil {
		return fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	return nil
}

// JWKS is the public keys as a JWKS document (RFC 7517), current key
// first. The slice is shared: callers must not modify it.
func (r *Ring) JWKS() []byte {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.jwks
}

// PublicKeys is the public keys, current first.
func (r *Ring) PublicKeys() jose.JSONWebKeySet {
	r.mu.RLock()
	defer r.mu.RUnlock()
	set := jose.JSONWebKeySet{}
	for i := len(r.keys) - 1; i >= 0; i-- {
		set.Keys = append(set.Keys, r.keys[i].public)
	}
	return set
}
