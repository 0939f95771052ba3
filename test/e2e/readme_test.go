//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEQuickStart runs README's quick start as written: `make run`
// with the owner token README chooses, then every fenced sh block between
// quickstart markers (the quick start's, the Connectors section's, the
// CLI cheat sheet), top to bottom, in one bash. The only change is
// the address: the test's own port instead of 8080 (in the blocks, and as
// GATEHOUSE_URL for the CLI, whose default is 8080).
func TestREADMEQuickStart(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	sections := regexp.MustCompile(`(?s)<!-- quickstart -->(.*?)<!-- /quickstart -->`).FindAllSubmatch(readme, -1)
	if sections == nil {
		t.Fatal("README has no quickstart section")
	}
	var blocks []string
	for _, section := range sections {
		for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllSubmatch(section[1], -1) {
			blocks = append(blocks, string(m[1]))
		}
	}
	if len(blocks) < 3 {
		t.Fatalf("%d sh blocks in the quick start, want the call, the policy and the guard", len(blocks))
	}
	start := regexp.MustCompile("(?m)^([A-Z_]+=\\S+ )make run$").FindSubmatch(readme)
	if start == nil {
		t.Fatal("README does not say how make run is started for the quick start")
	}
	token := strings.TrimPrefix(strings.TrimSpace(string(start[1])), "GATEHOUSE_ADMIN_TOKEN=")

	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	gw := startIn(t, root, "make-run", []string{
		"GATEHOUSE_ADMIN_TOKEN=" + token, "GATEHOUSE_LISTEN=" + addr, "GATEHOUSE_DATA_DIR=" + t.TempDir(),
	}, "make", "run")
	waitHTTP(t, "http://"+addr+"/readyz", gw)

	script := strings.ReplaceAll(strings.Join(blocks, "\n"), "127.0.0.1:8080", addr)
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GATEHOUSE_URL=http://"+addr)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the quick start fails: %v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{
		"user:  owner",         // gatehouse whoami
		"everything",           // gatehouse connectors list
		`"text":"Echo: hello"`, // the tool call
		"rule no-sums stored",
		`"code":-31058`, "denied by policy: rule no-sums denies call get-sum", // the policy denial
		`"code":-31056`, `blocked by ToolGuard \"tool-call-guard\"`, // the guard verdict
		"tool.call", "denied", // the audit log
		`"slug":"docs-search"`, `"status":"disabled"`, // the admin API's connectors
		"requester:  mia", "sse url:", "exported", // the CLI cheat sheet
		"uri:        https://*.example.com/oauth/callback", "outcome: blocked", "class:   userinfo", // redirect rules
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the quick start's output lacks %q:\n%s", want, got)
		}
	}
}
