package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/core/offload"
	"github.com/gatehouse-mcp/gatehouse/core/secret"
	"github.com/gatehouse-mcp/gatehouse/core/store"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/upstreamtest"
)

// BenchmarkOffloadStage is the stage's answer half on one tools/call
// result of 64 KiB and of 5 MB of text, with the gateway's real store (a
// Badger data dir with synced writes): decode, seal (AES-GCM) and store
// the output, write the preview and link; "memory" is the same on an
// in-memory store (the cost without the disk). Each stored output is
// dropped again outside the timer.
func BenchmarkOffloadStage(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int
	}{{"64KiB", 64 << 10}, {"5MB", 5 << 20}} {
		for _, where := range []string{"disk", "memory"} {
			b.Run(size.name+"/"+where, func(b *testing.B) {
				box, err := secret.New(bytes.Repeat([]byte{5}, secret.KeySize))
				if err != nil {
					b.Fatal(err)
				}
				var st *store.Store
				if where == "disk" {
					st, err = store.Open(context.Background(), b.TempDir(), box, zerolog.Nop())
				} else {
					st, err = store.OpenInMemory(box)
				}
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				o, err := offload.New(context.Background(), offload.Config{}, st.Offloads(), offload.Options{}, zerolog.Nop())
				if err != nil {
					b.Fatal(err)
				}
				s := NewOffload(o)
				text := strings.Repeat("0123456789abcdef", size.bytes/16)
				result, _ := json.Marshal(map[string]any{"content": []any{map[string]any{"type": "text", "text": text}}})
				c := &connector.Connector{Slug: "api"}
				req := upstreamtest.ToolCall(b, 1, "dump", `{}`)
				b.SetBytes(int64(size.bytes))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					x := &Exchange{Principal: principal("ada"), Slug: "api", Connector: c, Relayed: true, Request: req}
					a := &Answer{Msg: &mcp.Message{JSONRPC: "2.0", ID: json.RawMessage(`1`), Result: result}, Final: true}
					s.Answer(context.Background(), x, a)
					b.StopTimer()
					if len(x.Offloaded.Outputs) != 1 {
						b.Fatalf("not offloaded: %+v", x.Offloaded)
					}
					o.Drop(context.Background(), x.Offloaded.Outputs[0].ID)
					b.StartTimer()
				}
			})
		}
	}
}
