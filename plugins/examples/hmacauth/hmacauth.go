// Package hmacauth is an example auth plugin: clients sign each request's
// Authorization header with a key the gateway's operator shared with them,
//
//	Authorization: Gatehouse-HMAC <key id>:<unix seconds>:<nonce>:<hex HMAC-SHA256>
//
// where the MAC covers "gatehouse-hmac-v1\n<key id>\n<unix seconds>\n<nonce>"
// under the key's secret (Sign computes it). A valid header names the
// key's user and roles; a stale timestamp (outside max_skew either way) or
// a nonce seen before within the window is refused, so a captured header
// cannot be replayed. Other schemes are not this plugin's: the gateway
// asks its next provider.
//
// The auth.v1 interface gives a plugin the Authorization header only,
// never the request's body: the signature proves the key and freshness,
// not the content (docs/plugins.md).
package hmacauth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-mcp/gatehouse/sdk/plugin"
)

// Scheme is the Authorization scheme this plugin claims.
const Scheme = "Gatehouse-HMAC"

// DefaultMaxSkew is how far a signature's timestamp may be from the
// plugin's clock when settings do not say (max_skew).
const DefaultMaxSkew = 5 * time.Minute

// maxNonces bounds the replay cache; past it, signatures are refused
// until old nonces expire (only key holders can fill it).
const maxNonces = 1 << 20

// Key is one client key.
type Key struct {
	ID string `json:"id"`
	// Secret is the shared secret, hex (at least 32 bytes).
	Secret string `json:"secret"`
	// User is the gateway user the key authenticates as.
	User string `json:"user"`
	// Roles replace the roles the gateway's directory binds to User.
	Roles []string `json:"roles"`

	secret []byte
}

// Authenticator checks Gatehouse-HMAC headers.
type Authenticator struct {
	keys    map[string]Key
	maxSkew time.Duration
	now     func() time.Time

	mu        sync.Mutex
	nonces    map[string]time.Time // key id + nonce → when it may be forgotten
	nextPrune time.Time
}

// New builds an authenticator over keys; now nil means time.Now.
func New(keys []Key, maxSkew time.Duration, now func() time.Time) (*Authenticator, error) {
	if maxSkew <= 0 {
		return nil, errors.New("max_skew must be positive")
	}
	if now == nil {
		now = time.Now
	}
	a := &Authenticator{keys: map[string]Key{}, maxSkew: maxSkew, now: now, nonces: map[string]time.Time{}}
	for i, k := range keys {
		switch {
		case k.ID == "" || strings.ContainsAny(k.ID, ": \t"):
			return nil, fmt.Errorf("keys[%d]: id %q must be non-empty without colons or spaces", i, k.ID)
		case k.User == "":
			return nil, fmt.Errorf("keys[%d] (%s): user is required", i, k.ID)
		}
		if _, dup := a.keys[k.ID]; dup {
			return nil, fmt.Errorf("keys[%d]: id %q appears twice", i, k.ID)
		}
		secret, err := hex.DecodeString(k.Secret)
		if err != nil || len(secret) < 32 {
			return nil, fmt.Errorf("keys[%d] (%s): secret must be at least 32 bytes, hex-encoded", i, k.ID)
		}
		k.secret = secret
		a.keys[k.ID] = k
	}
	if len(a.keys) == 0 {
		return nil, errors.New("no keys")
	}
	return a, nil
}

// FromSettings builds the authenticator from the plugin's settings:
// keys_file (required) is a JSON file {"keys": [Key...]} that only its
// owner may read (it holds secrets); max_skew is a Go duration.
func FromSettings(s map[string]string) (*Authenticator, error) {
	path := s["keys_file"]
	if path == "" {
		return nil, errors.New("setting keys_file is required")
	}
	skew := DefaultMaxSkew
	if v := s["max_skew"]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("setting max_skew: %w", err)
		}
		skew = d
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("keys_file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("keys_file %s is readable by others (mode %v); it holds secrets: chmod 600 it", path, fi.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keys_file: %w", err)
	}
	var file struct {
		Keys []Key `json:"keys"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("keys_file %s: %w", path, err)
	}
	a, err := New(file.Keys, skew, nil)
	if err != nil {
		return nil, fmt.Errorf("keys_file %s: %w", path, err)
	}
	return a, nil
}

// Sign returns the Authorization header value for key id and secret at
// time ts with nonce (unique per request, no colons).
func Sign(id string, secret []byte, ts time.Time, nonce string) string {
	unix := strconv.FormatInt(ts.Unix(), 10)
	return Scheme + " " + id + ":" + unix + ":" + nonce + ":" + hex.EncodeToString(mac(secret, id, unix, nonce))
}

func mac(secret []byte, id, unix, nonce string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("gatehouse-hmac-v1\n" + id + "\n" + unix + "\n" + nonce))
	return m.Sum(nil)
}

func refused(format string, args ...any) error {
	return &plugin.Refused{Reason: fmt.Sprintf(format, args...)}
}

// Authenticate implements plugin.Authenticator.
func (a *Authenticator) Authenticate(_ context.Context, header []byte) (plugin.Principal, error) {
	rest, ok := bytes.CutPrefix(header, []byte(Scheme+" "))
	if !ok {
		return plugin.Principal{}, plugin.ErrNotMine
	}
	parts := strings.Split(string(rest), ":")
	if len(parts) != 4 || parts[0] == "" || parts[2] == "" {
		return plugin.Principal{}, refused("malformed %s credential: want <key id>:<unix seconds>:<nonce>:<hex signature>", Scheme)
	}
	id, unix, nonce, sigHex := parts[0], parts[1], parts[2], parts[3]
	sec, err := strconv.ParseInt(unix, 10, 64)
	if err != nil {
		return plugin.Principal{}, refused("malformed %s credential: timestamp %q is not unix seconds", Scheme, unix)
	}
	sig, err := hex.DecodeString(sigHex)
	if err != nil || len(sig) != sha256.Size {
		return plugin.Principal{}, refused("malformed %s credential: the signature is not %d hex bytes", Scheme, sha256.Size)
	}
	k, known := a.keys[id]
	if !known {
		// The same answer as a bad signature: key ids are not probed.
		return plugin.Principal{}, refused("bad signature")
	}
	if !hmac.Equal(sig, mac(k.secret, id, unix, nonce)) {
		return plugin.Principal{}, refused("bad signature")
	}
	now := a.now()
	signed := time.Unix(sec, 0)
	if skew := now.Sub(signed); skew > a.maxSkew || skew < -a.maxSkew {
		return plugin.Principal{}, refused("signature timestamp %s is more than %s from the gateway's clock %s; sign each request afresh",
			signed.UTC().Format(time.RFC3339), a.maxSkew, now.UTC().Format(time.RFC3339))
	}
	if err := a.remember(id+":"+nonce, signed.Add(a.maxSkew), now); err != nil {
		return plugin.Principal{}, err
	}
	return plugin.Principal{User: k.User, Roles: k.Roles}, nil
}

// remember records a nonce until forget, refusing one seen before.
func (a *Authenticator) remember(nonce string, forget, now time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, seen := a.nonces[nonce]; seen {
		return refused("nonce already used: a replayed request; sign each request with a fresh nonce")
	}
	if len(a.nonces) >= maxNonces || !now.Before(a.nextPrune) {
		for n, t := range a.nonces {
			if !t.After(now) {
				delete(a.nonces, n)
			}
		}
		a.nextPrune = now.Add(a.maxSkew)
	}
	if len(a.nonces) >= maxNonces {
		return refused("too many signed requests within max_skew; retry shortly")
	}
	a.nonces[nonce] = forget
	return nil
}
