package host

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/upstream"
	"github.com/gatehouse-mcp/gatehouse/core/upstream/stdio"
)

// BenchmarkTransport is the per-call cost of one tools/call round trip
// (request out, response back, matched to its call) to the same echo
// upstream in another process: through a transport plugin (gRPC stream
// over go-plugin's socket) and through the built-in STDIO transport
// (pipes). Their difference is what a plugin transport costs per call.
func BenchmarkTransport(b *testing.B) {
	conns := []struct {
		name string
		open func(b *testing.B) upstream.Conn
	}{
		{"plugin", func(b *testing.B) upstream.Conn {
			h, p := startHost(b, "transport", "echo")
			waitState(b, p, StateRunning)
			conn, err := dial(b, h, "test://echo")
			if err != nil {
				b.Fatal(err)
			}
			return conn
		}},
		{"builtin-stdio", func(b *testing.B) upstream.Conn {
			settings, _ := json.Marshal(map[string]string{"mode": "stdio-echo"})
			conn, err := stdio.Start(context.Background(), stdio.Config{Command: testPlugin,
				Env: map[string]string{"GATEHOUSE_PLUGIN_CONFIG": string(settings)}, Log: zerolog.Nop()})
			if err != nil {
				b.Fatal(err)
			}
			return conn
		}},
	}
	for _, c := range conns {
		b.Run(c.name, func(b *testing.B) {
			conn := c.open(b)
			defer conn.Close()
			// One checked call first: the echo really answers.
			m, err := call(conn, 1)
			if err != nil {
				b.Fatal(err)
			}
			if got := string(m.Result); got != `{"echo":{"name":"echo","arguments":{"n":1}}}` {
				b.Fatalf("echo answered %s", got)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := call(conn, i+2); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
