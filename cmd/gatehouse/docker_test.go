package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/core/config"
)

// TestDockerfile checks what can be checked without a Docker engine (CI
// here has none, and no Dockerfile linter is packaged for it): base
// images are pinned, the image runs as a non-root user, and the config it
// ships loads and does not expose anonymous access.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(data)
	for _, m := range regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(df, -1) {
		if img := m[1]; strings.HasSuffix(img, ":latest") || !strings.Contains(img, ":") {
			t.Errorf("base image %s is not pinned to a version", img)
		}
	}
	users := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(df, -1)
	if len(users) == 0 || users[len(users)-1][1] == "root" || users[len(users)-1][1] == "0" {
		t.Errorf("the image does not end as a non-root user: %v", users)
	}
	for _, m := range regexp.MustCompile(`(?m)^COPY\s+(?:--\S+\s+)?(\S+)\s`).FindAllStringSubmatch(df, -1) {
		src := m[1]
		if strings.HasPrefix(m[0], "COPY --from") || src == "." {
			continue
		}
		if _, err := os.Stat("../../" + src); err != nil {
			t.Errorf("COPY source %s: %v", src, err)
		}
	}
	cfg, err := config.Load("demo-docker.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("the image's config does not load: %v", err)
	}
	if cfg.ClientAuth.Mode != "token" || len(cfg.PublicExposures()) != 0 {
		t.Errorf("the image's config admits anonymous clients on %s", cfg.Listen)
	}
}
