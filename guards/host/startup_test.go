package host

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/gatehouse-mcp/gatehouse/sdk/guard"
)

// tinyGuard assembles a minimal ABI v1 guard by hand (no toolchain), with
// the function named loops replaced by an endless loop: the shape of the
// 133-byte module from the security review whose _initialize never
// returned.
func tinyGuard(loops string) []byte {
	const (
		tVoid     = 0 // () -> ()
		tI32ToI32 = 1 // (i32) -> i32
		tToI32    = 2 // () -> i32
		tCall     = 3 // (i32, i32) -> i64
		tInit     = 4 // (i32, i32) -> i32
	)
	types := [][]byte{
		{0x60, 0, 0},
		{0x60, 1, 0x7f, 1, 0x7f},
		{0x60, 0, 1, 0x7f},
		{0x60, 2, 0x7f, 0x7f, 1, 0x7e},
		{0x60, 2, 0x7f, 0x7f, 1, 0x7f},
	}
	loop := []byte{0x03, 0x40, 0x0c, 0x00, 0x0b, 0x00} // loop br 0 end unreachable
	funcs := []struct {
		name string
		typ  byte
		body []byte
	}{
		{"_initialize", tVoid, nil},
		{"gh_abi_v1", tVoid, nil},
		{"gh_alloc", tI32ToI32, []byte{0x41, 0x80, 0x08}}, // i32.const 1024
		{"gh_hooks", tToI32, []byte{0x41, 0x02}},          // i32.const 2 (tool_call)
		{"gh_init", tInit, []byte{0x41, 0x00}},            // i32.const 0
		{"gh_tool_call", tCall, []byte{0x42, 0x00}},       // i64.const 0 (allow)
	}
	section := func(id byte, items ...[]byte) []byte {
		body := []byte{byte(len(items))}
		for _, it := range items {
			body = append(body, it...)
		}
		return append([]byte{id, byte(len(body))}, body...)
	}
	var fnTypes, exports, codes [][]byte
	for i, f := range funcs {
		fnTypes = append(fnTypes, []byte{f.typ})
		exports = append(exports, append(append([]byte{byte(len(f.name))}, f.name...), 0x00, byte(i)))
		body := f.body
		if f.name == loops {
			body = loop
		}
		code := append(append([]byte{0x00}, body...), 0x0b) // no locals, body, end
		codes = append(codes, append([]byte{byte(len(code))}, code...))
	}
	exports = append(exports, []byte{6, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0})
	out := []byte{0x00, 'a', 's', 'm', 1, 0, 0, 0}
	out = append(out, section(1, types...)...)
	out = append(out, section(3, fnTypes...)...)
	out = append(out, section(5, []byte{0x00, 0x01})...) // one memory, min 1 page
	out = append(out, section(7, exports...)...)
	out = append(out, section(10, codes...)...)
	return out
}

// TestStartupDeadline: a guest looping while it starts is stopped by the
// start-up deadline and refused with ErrTimeout naming the guard, at load
// and when the pool starts a further instance; the host keeps working.
func TestStartupDeadline(t *testing.T) {
	h, err := New(context.Background(), Config{Interruptible: true, StartTimeout: 100 * time.Millisecond, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	if _, err := h.Load(context.Background(), "tiny", tinyGuard(""), []byte(`{}`)); err != nil {
		t.Fatalf("the well-behaved tiny guard does not load: %v", err)
	}
	tests := []struct {
		loops   string
		message string
	}{
		{"_initialize", "did not start (_initialize) within 100ms"},
		{"gh_hooks", "(gh_hooks) did not return before its deadline"},
		{"gh_init", "(gh_init) did not return before its deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.loops+" looping is stopped", func(t *testing.T) {
			// The caller's context has no deadline, as an upload request's.
			_, err := h.Load(context.Background(), "hostile", tinyGuard(tt.loops), []byte(`{"x":1}`))
			if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), tt.message) || !strings.Contains(err.Error(), "hostile") {
				t.Fatalf("load error %v, want ErrTimeout containing %q", err, tt.message)
			}
		})
	}
	t.Run("the host still runs guards", func(t *testing.T) {
		m, err := h.Load(context.Background(), "tiny2", tinyGuard(""), nil)
		if err != nil {
			t.Fatal(err)
		}
		v, err := m.Call(context.Background(), guard.HookToolCall, callInput("hello"))
		if err != nil || v.Action != guard.ActionAllow {
			t.Fatalf("call: %+v %v", v, err)
		}
	})
}
