//go:build e2e

package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/gatehouse-mcp/gatehouse/plugins/examples/hmacauth"
)

// hmacSigner signs every request it sends with a Gatehouse-HMAC header
// (a fresh nonce each time), as a client of the hmacauth plugin does.
type hmacSigner struct {
	id     string
	secret []byte
	signed atomic.Int32
}

func nonce() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *hmacSigner) header() string { return hmacauth.Sign(s.id, s.secret, time.Now(), nonce()) }

func (s *hmacSigner) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", s.header())
	s.signed.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// send makes one request with the given Authorization header and returns
// the status and body.
func send(t *testing.T, method, url, authorization string, body []byte) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", authorization)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}}`

// TestHMACAuthPlugin: the hmacauth example plugin authenticates clients
// of a gateway that requires credentials. A signed request is let in as
// the plugin's principal (its user and roles), on the admin API and by
// the official Go SDK client on /mcp (audited under that user); a bad
// signature, an unknown key and a replayed header are 401s; with the
// plugin crashed and refused a restart (its file no longer matches its
// checksum) a correctly signed request gets a 503 naming the plugin and
// is never let in, while the owner token still works.
func TestHMACAuthPlugin(t *testing.T) {
	dir := t.TempDir()
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	keys, _ := json.Marshal(map[string]any{"keys": []map[string]any{
		{"id": "alice-laptop", "secret": hex.EncodeToString(secret), "user": "alice", "roles": []string{"admin"}},
	}})
	keysFile := filepath.Join(dir, "hmac-keys.json")
	if err := os.WriteFile(keysFile, keys, 0o600); err != nil {
		t.Fatal(err)
	}
	// The gateway runs a copy of the plugin, so that the test can later
	// replace the file it starts.
	src, sum := pluginBinary(t, "hmacauth")
	bin, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	pluginPath := filepath.Join(dir, "gatehouse-plugin-hmacauth")
	if err := os.WriteFile(pluginPath, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	list := websocketPluginList(t) + fmt.Sprintf("    - name: hmacauth\n      kind: auth\n      path: %s\n      sha256: %s\n      settings:\n        keys_file: %s\n        max_skew: 2m\n",
		pluginPath, sum, keysFile)
	cfg := filepath.Join(dir, "gatehouse.yaml")
	if err := os.WriteFile(cfg, []byte("plugins:\n  call_timeout: 20s\n  health_interval: 200ms\n  restart_backoff_max: 1s\n  list:\n"+list), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGatewayIn(t, "", []string{"serve", "--config", cfg}, "GATEHOUSE_CLIENT_AUTH=token")
	g.waitPlugin("hmacauth", func(s pluginStatus) bool { return s.State == "running" })
	up := startWSUpstream(t)
	g.addConnector(map[string]any{"name": "ws", "slug": "ws", "transport": "websocket", "url": up.url,
		"auth": map[string]any{"kind": "none"}, "headers": map[string]string{"X-Upstream-Key": wsUpstreamKey}})
	alice := &hmacSigner{id: "alice-laptop", secret: secret}

	t.Run("a signed request is the plugin's principal", func(t *testing.T) {
		code, _, body := send(t, http.MethodGet, g.base+"/admin/v1/me", alice.header(), nil)
		var me struct {
			User  string   `json:"user"`
			Roles []string `json:"roles"`
		}
		if code != http.StatusOK || json.Unmarshal([]byte(body), &me) != nil || me.User != "alice" || !slices.Equal(me.Roles, []string{"admin"}) {
			t.Fatalf("GET /me: HTTP %d %s, want alice with roles [admin]", code, body)
		}
	})

	t.Run("the Go SDK client signing each request lists and calls", func(t *testing.T) {
		client := mcp.NewClient(&mcp.Implementation{Name: "gatehouse-e2e-hmac", Version: "1.0.0"}, nil)
		ctx := ctxFor(t)
		sess, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: g.mcpURL("ws"), HTTPClient: &http.Client{Transport: alice}},
			&mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
		if err != nil {
			t.Fatalf("connect with HMAC-signed requests: %v", err)
		}
		defer sess.Close()
		if _, err := sess.ListTools(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if err := echoBack(ctx, sess, "signed by alice"); err != nil {
			t.Fatal(err)
		}
		if alice.signed.Load() < 3 {
			t.Fatalf("only %d requests were signed", alice.signed.Load())
		}
		entries := eventually(func() int {
			var page struct {
				Entries []json.RawMessage `json:"entries"`
			}
			if code := g.admin(http.MethodGet, "/audit?action=tool.call&actor=alice", nil, &page); code != http.StatusOK {
				t.Fatalf("GET /audit: HTTP %d", code)
			}
			return len(page.Entries)
		}, 1)
		if entries != 1 {
			t.Fatalf("%d tool.call audit entries for actor alice, want 1", entries)
		}
	})

	forged := hmacauth.Sign("alice-laptop", bytes.Repeat([]byte{7}, 32), time.Now(), nonce())
	replayed := alice.header()
	if code, _, body := send(t, http.MethodGet, g.base+"/admin/v1/me", replayed, nil); code != http.StatusOK {
		t.Fatalf("first use of the header to replay: HTTP %d %s", code, body)
	}
	for _, tt := range []struct{ name, header, says string }{
		{"a bad signature", forged, "bad signature"},
		{"an unknown key", hmacauth.Sign("mallory", secret, time.Now(), nonce()), "bad signature"},
		{"a replayed header", replayed, "nonce already used"},
		{"a stale signature", hmacauth.Sign("alice-laptop", secret, time.Now().Add(-10*time.Minute), nonce()), "from the gateway's clock"},
		{"a malformed credential", hmacauth.Scheme + " alice-laptop", "malformed"},
	} {
		t.Run(tt.name+" is a 401", func(t *testing.T) {
			for _, target := range []struct {
				method, url string
				body        []byte
			}{{http.MethodGet, g.base + "/admin/v1/me", nil}, {http.MethodPost, g.mcpURL("ws"), []byte(initializeBody)}} {
				code, _, body := send(t, target.method, target.url, tt.header, target.body)
				if code != http.StatusUnauthorized || !strings.Contains(body, tt.says) {
					t.Fatalf("%s %s: HTTP %d %s, want 401 saying %q", target.method, target.url, code, body, tt.says)
				}
			}
		})
	}

	t.Run("a crashed auth plugin never lets in", func(t *testing.T) {
		before := g.plugin("hmacauth")
		// The file changes under the running plugin: its restart is
		// refused, so the plugin stays down for the requests below.
		if err := os.WriteFile(pluginPath+".new", []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(pluginPath+".new", pluginPath); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(before.PID, syscall.SIGKILL); err != nil {
			t.Fatalf("kill plugin pid %d: %v", before.PID, err)
		}
		st := g.waitPlugin("hmacauth", func(s pluginStatus) bool { return s.State == "refused" })
		if !strings.Contains(st.LastError, sum) {
			t.Errorf("refused plugin's last error %q does not name the configured sum", st.LastError)
		}
		for _, target := range []struct {
			method, url string
			body        []byte
		}{{http.MethodGet, g.base + "/admin/v1/me", nil}, {http.MethodPost, g.mcpURL("ws"), []byte(initializeBody)}} {
			code, hdr, body := send(t, target.method, target.url, alice.header(), target.body)
			if code != http.StatusServiceUnavailable || !strings.Contains(body, `plugin \"hmacauth\"`) || hdr.Get("Retry-After") == "" {
				t.Fatalf("%s %s with a good signature, plugin down: HTTP %d %s, want 503 naming the plugin", target.method, target.url, code, body)
			}
		}
		// The CLI shows both plugins with their state.
		out := cli(t, g, adminToken, false, "plugins", "list")
		for _, want := range []string{"websocket  transport  websocket  running", "hmacauth   auth                  refused", "checksum"} {
			if !strings.Contains(out, want) {
				t.Errorf("gatehouse plugins list does not show %q:\n%s", want, out)
			}
		}
		// The gateway's own credentials do not depend on the plugin.
		var me map[string]any
		if code := g.admin(http.MethodGet, "/me", nil, &me); code != http.StatusOK || me["user"] != "owner" {
			t.Fatalf("owner token with the auth plugin down: HTTP %d %v", code, me)
		}
	})
}
