package hmacauth

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-mcp/gatehouse/sdk/plugin"
)

var (
	secret    = []byte("0123456789abcdef0123456789abcdef")
	otherKey  = []byte("fedcba9876543210fedcba9876543210")
	clock     = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	aliceKeys = []Key{{ID: "alice-key", Secret: hex.EncodeToString(secret), User: "alice", Roles: []string{"admin"}}}
)

func newTestAuth(t *testing.T) *Authenticator {
	t.Helper()
	a, err := New(aliceKeys, time.Minute, func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAuthenticate(t *testing.T) {
	tests := []struct {
		name     string
		header   string
		wantUser string
		notMine  bool
		refusal  string // part of the reason; "" for accepted or not mine
	}{
		{name: "signed now", header: Sign("alice-key", secret, clock, "n1"), wantUser: "alice"},
		{name: "signed within the skew, in the past", header: Sign("alice-key", secret, clock.Add(-59*time.Second), "n2"), wantUser: "alice"},
		{name: "signed within the skew, ahead", header: Sign("alice-key", secret, clock.Add(59*time.Second), "n3"), wantUser: "alice"},
		{name: "a bearer token is not mine", header: "Bearer gth_abc", notMine: true},
		{name: "basic is not mine", header: "Basic YWxpY2U6cHc=", notMine: true},
		{name: "the scheme without a space is not mine", header: "Gatehouse-HMACalice", notMine: true},
		{name: "wrong secret", header: Sign("alice-key", otherKey, clock, "n4"), refusal: "bad signature"},
		{name: "unknown key reads as a bad signature", header: Sign("mallory", secret, clock, "n5"), refusal: "bad signature"},
		{name: "stale", header: Sign("alice-key", secret, clock.Add(-2*time.Minute), "n6"), refusal: "more than 1m0s from the gateway's clock"},
		{name: "from the future", header: Sign("alice-key", secret, clock.Add(2*time.Minute), "n7"), refusal: "more than 1m0s"},
		{name: "three parts", header: Scheme + " alice-key:1:abc", refusal: "malformed"},
		{name: "empty nonce", header: Scheme + " alice-key:1::" + strings.Repeat("00", 32), refusal: "malformed"},
		{name: "timestamp not a number", header: Scheme + " alice-key:soon:n:" + strings.Repeat("00", 32), refusal: "not unix seconds"},
		{name: "signature not hex", header: Scheme + " alice-key:1:n:zz", refusal: "not 32 hex bytes"},
		{name: "signature too short", header: Scheme + " alice-key:1:n:abcd", refusal: "not 32 hex bytes"},
	}
	a := newTestAuth(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := a.Authenticate(context.Background(), []byte(tt.header))
			switch {
			case tt.notMine:
				if !errors.Is(err, plugin.ErrNotMine) {
					t.Fatalf("got %+v, %v; want ErrNotMine", p, err)
				}
			case tt.refusal != "":
				var r *plugin.Refused
				if !errors.As(err, &r) || !strings.Contains(r.Reason, tt.refusal) {
					t.Fatalf("got %+v, %v; want a refusal saying %q", p, err, tt.refusal)
				}
			default:
				if err != nil || p.User != tt.wantUser || !slices.Equal(p.Roles, []string{"admin"}) {
					t.Fatalf("got %+v, %v; want %s with the key's roles", p, err, tt.wantUser)
				}
			}
		})
	}
}

func TestReplayedNonceIsRefused(t *testing.T) {
	a := newTestAuth(t)
	h := []byte(Sign("alice-key", secret, clock, "once"))
	if _, err := a.Authenticate(context.Background(), h); err != nil {
		t.Fatalf("first use: %v", err)
	}
	_, err := a.Authenticate(context.Background(), h)
	var r *plugin.Refused
	if !errors.As(err, &r) || !strings.Contains(r.Reason, "replayed") {
		t.Fatalf("second use: %v, want a replay refusal", err)
	}
	// A bad signature with a fresh nonce does not burn that nonce.
	if _, err := a.Authenticate(context.Background(), []byte(Sign("alice-key", otherKey, clock, "fresh"))); err == nil {
		t.Fatal("bad signature accepted")
	}
	if _, err := a.Authenticate(context.Background(), []byte(Sign("alice-key", secret, clock, "fresh"))); err != nil {
		t.Fatalf("fresh nonce after a forged one: %v", err)
	}
}

func TestNewRefusesBadKeys(t *testing.T) {
	good := hex.EncodeToString(secret)
	tests := []struct {
		name string
		keys []Key
		skew time.Duration
		want string
	}{
		{"no keys", nil, time.Minute, "no keys"},
		{"zero skew", aliceKeys, 0, "max_skew must be positive"},
		{"colon in id", []Key{{ID: "a:b", Secret: good, User: "a"}}, time.Minute, "without colons"},
		{"no user", []Key{{ID: "a", Secret: good}}, time.Minute, "user is required"},
		{"short secret", []Key{{ID: "a", Secret: "abcd", User: "a"}}, time.Minute, "at least 32 bytes"},
		{"secret not hex", []Key{{ID: "a", Secret: strings.Repeat("x", 64), User: "a"}}, time.Minute, "hex-encoded"},
		{"duplicate id", []Key{{ID: "a", Secret: good, User: "a"}, {ID: "a", Secret: good, User: "b"}}, time.Minute, "appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.keys, tt.skew, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestFromSettings(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keys := `{"keys":[{"id":"alice-key","secret":"` + hex.EncodeToString(secret) + `","user":"alice","roles":["admin"]}]}`
	good := write("keys.json", keys, 0o600)
	tests := []struct {
		name     string
		settings map[string]string
		want     string // "" for success
	}{
		{"a private keys file", map[string]string{"keys_file": good, "max_skew": "30s"}, ""},
		{"no keys_file", map[string]string{}, "keys_file is required"},
		{"missing file", map[string]string{"keys_file": filepath.Join(dir, "none.json")}, "no such file"},
		{"readable by others", map[string]string{"keys_file": write("open.json", keys, 0o644)}, "chmod 600"},
		{"not JSON", map[string]string{"keys_file": write("bad.json", "keys: [", 0o600)}, "bad.json"},
		{"unknown field", map[string]string{"keys_file": write("extra.json", `{"keys":[],"secrets":1}`, 0o600)}, "unknown field"},
		{"bad max_skew", map[string]string{"keys_file": good, "max_skew": "soon"}, "max_skew"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := FromSettings(tt.settings)
			if tt.want == "" {
				if err != nil || a.maxSkew != 30*time.Second {
					t.Fatalf("got %v, %v", a, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want one saying %q", err, tt.want)
			}
		})
	}
}
