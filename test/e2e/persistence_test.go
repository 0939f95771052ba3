//go:build e2e

package e2e

import (
	"bytes"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestConnectorsSurviveARestart creates connectors through the admin API,
// restarts the gateway on the same data dir, and uses them again.
func TestConnectorsSurviveARestart(t *testing.T) {
	const bearer = "upstream-bearer-9f8e7d6c"
	const envSecret = "env-secret-1a2b3c4d"
	dir := t.TempDir()
	g := startGateway(t, dir)
	stdio := everythingSTDIO("kept-stdio")
	stdio["env"] = map[string]string{"SOME_API_KEY": envSecret}
	g.addConnector(stdio)
	g.addConnector(map[string]any{"name": "kept-http", "slug": "kept-http", "transport": "streamable-http",
		"url": startEverythingHTTP(t), "auth": map[string]any{"kind": "bearer", "token": bearer}, "description": "restart me"})
	var before map[string]any
	g.admin(http.MethodGet, "/connectors/kept-http", nil, &before)
	g.proc.stop()

	g2 := startGateway(t, dir)
	var list struct {
		Connectors []map[string]any `json:"connectors"`
		Total      int              `json:"total"`
	}
	if code := g2.admin(http.MethodGet, "/connectors", nil, &list); code != 200 || list.Total != 2 {
		t.Fatalf("after restart: HTTP %d, %d connectors", code, list.Total)
	}
	var after map[string]any
	g2.admin(http.MethodGet, "/connectors/kept-http", nil, &after)
	for _, field := range []string{"id", "name", "url", "description", "created_at", "version"} {
		if before[field] != after[field] {
			t.Errorf("%s changed across the restart: %v -> %v", field, before[field], after[field])
		}
	}
	if auth, _ := after["auth"].(map[string]any); auth["token"] != "[redacted]" {
		t.Errorf("auth token shown as %v, want [redacted]", auth["token"])
	}
	t.Run("a client calls through the restarted gateway", func(t *testing.T) {
		for _, slug := range []string{"kept-stdio", "kept-http"} {
			var samples atomic.Int32
			sess := goClient(t, g2.mcpURL(slug), &samples)
			res, err := sess.CallTool(ctxFor(t), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "again"}})
			if err != nil || textOf(res) != "Echo: again" {
				t.Errorf("%s: %v %v", slug, err, res)
			}
		}
	})
	t.Run("no secret is stored in plaintext", func(t *testing.T) {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, secret := range []string{bearer, envSecret, adminToken} {
				if bytes.Contains(data, []byte(secret)) {
					t.Errorf("%s holds the plaintext secret %q", path, secret)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
