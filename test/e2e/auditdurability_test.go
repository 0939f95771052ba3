//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/gatehouse-mcp/gatehouse/test/rawmcp"
)

func openRawSession(t *testing.T, ctx context.Context, endpoint string) *rawmcp.Session {
	t.Helper()
	s := &rawmcp.Session{Client: &http.Client{Transport: &http.Transport{}}, URL: endpoint}
	if _, err := s.Post(ctx, `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"durability","version":"1"}}}`); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	if _, err := s.Post(ctx, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); err != nil {
		t.Fatalf("initialized: %v", err)
	}
	t.Cleanup(s.Client.CloseIdleConnections)
	return s
}

// TestEveryAnsweredCallIsAuditedAcrossAKill runs tools/call from several
// concurrent clients, SIGKILLs the gateway mid-load, restarts it on the
// same data dir and checks that every call a client saw answered has its
// audit entry (matched by the call's unique JSON-RPC id).
func TestEveryAnsweredCallIsAuditedAcrossAKill(t *testing.T) {
	const clients, killAfter = 6, 300
	dir := t.TempDir()
	g := startGateway(t, dir, "GATEHOUSE_LOG_LEVEL=warn")
	g.addConnector(map[string]any{"name": "durable", "slug": "durable", "transport": "streamable-http",
		"url": startEverythingHTTP(t), "auth": map[string]any{"kind": "none"}})
	ctx := ctxFor(t)
	sessions := make([]*rawmcp.Session, clients)
	for i := range sessions {
		sessions[i] = openRawSession(t, ctx, g.mcpURL("durable"))
	}

	var (
		mu       sync.Mutex
		answered = map[string]bool{} // raw JSON ids of calls answered with their result
		total    atomic.Int64
		echoed   atomic.Int64 // answered with the echo (the rest with an error)
		wg       sync.WaitGroup
		killed   = make(chan error, 1)
	)
	for c, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf(`"durable-%d-%d"`, c, i)
				msg := fmt.Sprintf("m-%d-%d", c, i)
				data, err := s.Post(ctx, `{"jsonrpc":"2.0","id":`+id+`,"method":"tools/call","params":{"name":"echo","arguments":{"message":"`+msg+`"}}}`)
				if err != nil {
					return // the gateway is gone
				}
				// An answer is an answer, result or error (a guard may fail
				// closed on a loaded machine): each must be audited.
				var ans struct {
					ID     json.RawMessage `json:"id"`
					Result struct {
						Content []struct {
							Text string `json:"text"`
						} `json:"content"`
					} `json:"result"`
				}
				if json.Unmarshal(data, &ans) != nil || string(ans.ID) != id {
					t.Errorf("call %s answered %s", id, data)
					return
				}
				if len(ans.Result.Content) > 0 && ans.Result.Content[0].Text == "Echo: "+msg {
					echoed.Add(1)
				}
				mu.Lock()
				answered[id] = true
				mu.Unlock()
				if total.Add(1) == killAfter {
					// Right after an answer: the moment an entry batched
					// for later would be lost.
					killed <- syscall.Kill(-g.proc.cmd.Process.Pid, syscall.SIGKILL)
				}
			}
		}()
	}
	select {
	case err := <-killed:
		if err != nil {
			t.Fatal(err)
		}
	case <-g.proc.done:
		t.Fatal("the gateway exited under load")
	case <-ctx.Done():
		t.Fatalf("only %d calls answered", total.Load())
	}
	<-g.proc.done
	wg.Wait()

	g2 := startGateway(t, dir, "GATEHOUSE_LOG_LEVEL=warn")
	audited := map[string]bool{}
	cursor := ""
	for {
		var page struct {
			Entries []struct {
				Details map[string]any `json:"details"`
			} `json:"entries"`
			NextCursor string `json:"next_cursor"`
		}
		q := url.Values{"action": {"tool.call"}, "connector": {"durable"}, "limit": {"1000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if code := g2.admin(http.MethodGet, "/audit?"+q.Encode(), nil, &page); code != http.StatusOK {
			t.Fatalf("query the audit log: HTTP %d", code)
		}
		for _, e := range page.Entries {
			if id, ok := e.Details["request_id"].(string); ok {
				audited[id] = true
			}
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	var missing []string
	for id := range answered {
		if !audited[id] {
			missing = append(missing, id)
		}
	}
	unanswered := 0
	for id := range audited {
		if !answered[id] {
			unanswered++ // in flight at the kill: written, never relayed
		}
	}
	t.Logf("%d clients: %d calls answered before the SIGKILL (%d with the echo), %d audit entries after the restart (%d of calls in flight), %d answered calls missing",
		clients, len(answered), echoed.Load(), len(audited), unanswered, len(missing))
	if len(missing) > 0 {
		t.Errorf("%d answered calls have no audit entry after the kill, e.g. %s", len(missing), missing[0])
	}
	if len(answered) < killAfter {
		t.Errorf("only %d calls answered", len(answered))
	}
}
