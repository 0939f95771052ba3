package toolguard

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/core/connector"
	"github.com/gatehouse-mcp/gatehouse/core/mcp"
	"github.com/gatehouse-mcp/gatehouse/guards/builtin"
	"github.com/gatehouse-mcp/gatehouse/guards/host"
	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// builtinEngine is an engine running the embedded built-in guards in a
// trusted host, with their native prefilter, as the gateway does (needs
// `make guards`).
func builtinEngine(b testing.TB) *Engine { return builtinEngineNative(b, true) }

// builtinEngineNative is builtinEngine, with the native prefilter or
// without it (every call runs the guests).
func builtinEngineNative(b testing.TB, native bool) *Engine {
	b.Helper()
	h, err := host.New(context.Background(), host.Config{MemoryLimitPages: 2048, Log: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close(context.Background()) })
	var chain []Entry
	for _, name := range builtin.Names {
		code, err := builtin.Module(name)
		if err != nil {
			b.Fatal(err)
		}
		m, err := h.Load(context.Background(), name, code, nil)
		if err != nil {
			b.Fatal(err)
		}
		entry := Entry{Name: name, Module: m, Enabled: true}
		if native {
			entry.Native, entry.NativeIn = builtin.Native(name), builtin.NativeIn(name)
		}
		chain = append(chain, entry)
	}
	s := DefaultSettings()
	s.CallTimeoutMS, s.ListTimeoutMS = 60000, 600000
	e := New(s)
	e.SetChain(chain)
	return e
}

// BenchmarkCallChain: the Tool Call and Tool Intent guards on one benign
// tools/call result, as the proxy runs them, by result size. The verdict
// cache is off (the entries have no module hash): this is the rules'
// cost on content not seen before.
func BenchmarkCallChain(b *testing.B) { benchCallChain(b, builtinEngine(b)) }

// BenchmarkCallChainCached: BenchmarkCallChain with the verdict cache on,
// as the gateway runs the built-in guards: every call after the first is
// the same content, so this is the cost of a hit (content key, lookup).
func BenchmarkCallChainCached(b *testing.B) {
	benchCallChain(b, builtinEngineCached(b))
}

// builtinEngineCached is builtinEngine with the verdict cache on, as the
// gateway runs the built-in guards (their entries carry a module hash).
func builtinEngineCached(b testing.TB) *Engine {
	e := builtinEngine(b)
	chain, _ := e.snapshot()
	for i := range chain {
		chain[i].Hash = "bench"
	}
	e.SetChain(chain)
	return e
}

func benchCallChain(b *testing.B, e *Engine) {
	para := "The quarterly report lists revenue by region, the open support tickets and the roadmap items for the next release. "
	for _, size := range []int{1 << 10, 64 << 10} {
		text := strings.Repeat(para, size/len(para)+1)[:size]
		res, _ := json.Marshal(map[string]any{"content": []map[string]string{{"type": "text", "text": text}}})
		call := Call{Slug: "docs", Tool: guard.ToolRef{Name: "read_report", Description: "Reads a report by id."},
			Arguments: json.RawMessage(`{"id":"q3-2026"}`), Result: res}
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if out, _ := e.CheckCall(context.Background(), call); out.Action != guard.ActionAllow {
					b.Fatalf("benign result judged %s: %+v", out.Action, out.Verdicts)
				}
			}
		})
	}
}

// BenchmarkToolList1000: the Tool List Guard over 1 000 tool definitions.
func BenchmarkToolList1000(b *testing.B) {
	e := builtinEngine(b)
	tools := make([]guard.Tool, 1000)
	for i := range tools {
		tools[i] = guard.Tool{Name: fmt.Sprintf("get_record_%d", i), Description: fmt.Sprintf("Returns record %d of the inventory with its owner and status.", i),
			InputSchema: json.RawMessage(`{"type":"object","properties":{"id":{"type":"string","description":"Record id"}},"required":["id"]}`)}
	}
	for b.Loop() {
		out := e.CheckTools(context.Background(), guard.Connector{ID: "c", Name: "inventory"}, "inventory", tools, nil)
		if out.Action == guard.ActionBlock {
			b.Fatalf("benign tools blocked: %+v", out.Verdicts)
		}
	}
}

// BenchmarkRequestChain: the pre-call hooks of the Tool Call and Tool
// Intent guards on one benign tools/call, by size of its arguments (1 KiB:
// one string; 64 KiB: an array of short strings), as PreCall runs them.
// native: CheckRequest with the native rules (a clean allow skips the
// guests); params: GuardRequest, the same from the request's params
// (their reading included); wasm: the guests alone (1 KiB only); cached:
// native with the verdict cache on, every call after the first a hit.
// All on content the guards allow.
func BenchmarkRequestChain(b *testing.B) {
	para := "Summarise the quarterly report by region and list the open support tickets for the next release. "
	one := strings.Repeat(para, 1024/len(para)+1)[:1024-len(`{"query":""}`)]
	args1, _ := json.Marshal(map[string]string{"query": one})
	if len(args1) != 1024 {
		b.Fatalf("arguments are %d bytes", len(args1))
	}
	var qs []string
	for n := len(`{"queries":[]}`); n+len(para)+3 <= 64<<10; n += len(para) + 3 {
		qs = append(qs, para)
	}
	args64, _ := json.Marshal(map[string][]string{"queries": qs})
	tool := guard.ToolRef{Name: "search_docs", Description: "Searches the product documentation."}
	cached := builtinEngineCached(b)
	native, wasm := builtinEngine(b), builtinEngineNative(b, false)
	native.SetToolDescriptions(describer{"search_docs": tool.Description})
	conn := &connector.Connector{ID: "c1", Slug: "docs", Name: "Docs"}
	for _, args := range []json.RawMessage{args1, args64} {
		size := fmt.Sprintf("%dKiB", (len(args)+512)>>10)
		req := Request{Slug: "docs", Tool: tool, Arguments: args}
		params, _ := json.Marshal(map[string]any{"name": tool.Name, "arguments": args})
		msg := &mcp.Message{JSONRPC: "2.0", ID: json.RawMessage(`7`), Method: mcp.MethodToolsCall, Params: params}
		for _, tc := range []struct {
			name string
			run  func() Outcome
		}{
			{"native", func() Outcome { return native.CheckRequest(context.Background(), req) }},
			{"params", func() Outcome { _, out := native.GuardRequest(context.Background(), conn, msg, nil); return out }},
			{"wasm", func() Outcome { return wasm.CheckRequest(context.Background(), req) }},
			{"cached", func() Outcome { return cached.CheckRequest(context.Background(), req) }},
		} {
			if tc.name == "wasm" && len(args) > 1024 {
				continue
			}
			b.Run(tc.name+"/"+size, func(b *testing.B) {
				b.SetBytes(int64(len(args)))
				b.ReportAllocs()
				for b.Loop() {
					if out := tc.run(); out.Action != guard.ActionAllow {
						b.Fatalf("benign request judged %s: %+v", out.Action, out.Verdicts)
					}
				}
			})
		}
	}
}

// BenchmarkGatewayCall: all the guard work the gateway does for one
// tools/call, as the proxy's stages run it — GuardRequest on the request,
// GuardAnswer on the upstream's answer — with the verdict cache on (the
// gateway's built-in entries carry their module hash) and every call's
// content distinct (no cache hits), as `make bench`'s load test sends.
// echo/N: an N-byte message echoed back (the arguments and the result
// both carry it); result/N: small arguments and an N-byte prose result.
func BenchmarkGatewayCall(b *testing.B) { benchGatewayCall(b, nil) }

// BenchmarkGatewayCallCold is BenchmarkGatewayCall with the caches
// evicted before every call (32 MiB written outside the timer): a busy
// gateway runs the guards between a proxy's, a client's and an upstream's
// work, so their tables, code and allocator state are mostly cold (8 MiB
// is twice this machine's L2; the L3 is far larger and shared). Here a
// 100-byte call costs ~4× its warm figure, and allocation (mcentral span
// refills) is the largest part: the direction for small calls.
// Small calls only, the eviction being far slower than the call.
func BenchmarkGatewayCallCold(b *testing.B) { benchGatewayCall(b, make([]byte, 8<<20)) }

// benchGatewayCall runs the benchmark, evicting the caches with evict
// before each call when it is not nil.
func benchGatewayCall(b *testing.B, evict []byte) {
	e := builtinEngineCached(b)
	e.SetToolDescriptions(describer{"echo": "Echoes the message back.", "read_report": "Reads a report by id."})
	conn := &connector.Connector{ID: "c1", Slug: "docs", Name: "Docs"}
	para := "The quarterly report lists revenue by region, the open support tickets and the roadmap items for the next release. "
	type shape struct {
		name  string
		call  func(n int) (req, resp *mcp.Message)
		sizes []int
	}
	textResult := func(text string) json.RawMessage {
		r, _ := json.Marshal(map[string]any{"content": []map[string]string{{"type": "text", "text": text}}})
		return r
	}
	msg := func(id int, tool string, args any) *mcp.Message {
		params, _ := json.Marshal(map[string]any{"name": tool, "arguments": args})
		return &mcp.Message{JSONRPC: "2.0", ID: json.RawMessage(fmt.Sprint(id)), Method: mcp.MethodToolsCall, Params: params}
	}
	for _, sh := range []shape{
		{"echo", func(n int) (*mcp.Message, *mcp.Message) {
			m := strings.Repeat("m", 100)[:100-8] + fmt.Sprintf("%08d", n)
			return msg(n, "echo", map[string]string{"message": m}), &mcp.Message{JSONRPC: "2.0", ID: json.RawMessage(fmt.Sprint(n)), Result: textResult(m)}
		}, []int{100}},
		{"result", func(n int) (*mcp.Message, *mcp.Message) { return nil, nil }, []int{1 << 10, 64 << 10}},
	} {
		for _, size := range sh.sizes {
			if evict != nil && size > 1<<10 {
				continue
			}
			body := strings.Repeat(para, size/len(para)+1)[:size-8]
			call := sh.call
			if sh.name == "result" {
				call = func(n int) (*mcp.Message, *mcp.Message) {
					return msg(n, "read_report", map[string]string{"id": fmt.Sprintf("q3-%08d", n)}),
						&mcp.Message{JSONRPC: "2.0", ID: json.RawMessage(fmt.Sprint(n)), Result: textResult(body + fmt.Sprintf("%08d", n))}
				}
			}
			b.Run(fmt.Sprintf("%s/%d", sh.name, size), func(b *testing.B) {
				b.ReportAllocs()
				// Messages are made in batches outside the timer: their
				// encoding is the client's and the upstream's work.
				var reqs, resps []*mcp.Message
				n := 0
				for b.Loop() {
					if len(reqs) == 0 {
						b.StopTimer()
						for range 512 {
							n++
							req, resp := call(n)
							reqs, resps = append(reqs, req), append(resps, resp)
						}
						b.StartTimer()
					}
					req, resp := reqs[0], resps[0]
					reqs, resps = reqs[1:], resps[1:]
					if evict != nil {
						b.StopTimer()
						for i := 0; i < len(evict); i += 64 {
							evict[i]++
						}
						b.StartTimer()
					}
					var rd Reading // the exchange's
					if refused, out := e.GuardRequest(context.Background(), conn, req, &rd); refused != nil {
						b.Fatalf("benign request refused: %+v", out)
					}
					if _, out := e.GuardAnswer(context.Background(), conn, req, resp, &rd); out.Action != guard.ActionAllow {
						b.Fatalf("benign answer judged %s: %+v", out.Action, out.Verdicts)
					}
				}
			})
		}
	}
}
