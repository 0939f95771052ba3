package main

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/audit"
	"github.com/gatehouse-mcp/gatehouse/core/auth"
	"github.com/gatehouse-mcp/gatehouse/core/config"
	"github.com/gatehouse-mcp/gatehouse/core/proxy"
	"github.com/gatehouse-mcp/gatehouse/core/secret"
	"github.com/gatehouse-mcp/gatehouse/core/store"
)

// TestObserveCallCommitModes: audit.commit sync writes a call's entry
// before returning (the answer waits on it); batched queues it and the
// entry lands with the next group write.
func TestObserveCallCommitModes(t *testing.T) {
	for _, mode := range []string{"sync", "batched"} {
		t.Run(mode, func(t *testing.T) {
			box, err := secret.New(make([]byte, secret.KeySize))
			if err != nil {
				t.Fatal(err)
			}
			st, err := store.OpenInMemory(box)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			l := audit.New(st.Audit(), zerolog.Nop())
			defer l.Close()
			count := func() int {
				n := 0
				_ = l.Query(context.Background(), audit.Filter{}, func(*audit.Entry) (bool, error) { n++; return true, nil })
				return n
			}
			if err := observeCall(l, mode)(context.Background(), proxy.CallRecord{User: "ada", Connector: "c", Tool: "t", Outcome: "success"}); err != nil {
				t.Fatal(err)
			}
			if mode == "sync" && count() != 1 {
				t.Fatalf("sync: %d entries once the call returned, want 1", count())
			}
			if err := l.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if count() != 1 {
				t.Errorf("%s: %d entries after a flush, want 1", mode, count())
			}
		})
	}
}

// TestPortInUseFailsBeforeTheOwnerToken: a first start that cannot listen
// says how to choose another address and prints no owner token (which
// would be stored, and then lost with the failed start).
func TestPortInUseFailsBeforeTheOwnerToken(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := config.Default()
	cfg.Listen, cfg.DataDir = busy.Addr().String(), t.TempDir()
	var out strings.Builder
	err = serve(context.Background(), cfg, &out)
	if err == nil || !strings.Contains(err.Error(), "GATEHOUSE_LISTEN") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(out.String(), "gth_") {
		t.Errorf("an owner token was printed by a start that failed: %s", out.String())
	}
	if entries, _ := os.ReadDir(cfg.DataDir); len(entries) != 0 {
		t.Errorf("the failed start wrote %d entries into the data dir", len(entries))
	}
}

// memMeta is a metaStore in memory.
type memMeta map[string][]byte

func (m memMeta) Get(_ context.Context, key string) ([]byte, error) {
	if v, ok := m[key]; ok {
		return v, nil
	}
	return nil, store.ErrNotFound
}

func (m memMeta) Put(_ context.Context, key string, value []byte) error {
	m[key] = value
	return nil
}

// TestOwnerTokenLooksLikeEveryToken: the generated owner token has the
// API tokens' prefix (README says gth_; it was gh_), is printed once, and
// authenticates as the stored digest.
func TestOwnerTokenLooksLikeEveryToken(t *testing.T) {
	meta := memMeta{}
	var out strings.Builder
	digest, err := bootstrapOwner(context.Background(), meta, "", &out)
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(out.String())
	token := fields[len(fields)-1]
	if !strings.HasPrefix(token, auth.TokenPrefix) || auth.HashToken(token) != digest {
		t.Errorf("owner token %q (prefix %s)", token, auth.TokenPrefix)
	}
	out.Reset()
	if _, err := bootstrapOwner(context.Background(), meta, "", &out); err != nil || out.Len() != 0 {
		t.Errorf("the second start printed %q (%v)", out.String(), err)
	}
}
