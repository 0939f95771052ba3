//go:build wasip1

package guard

import (
	"runtime/debug"
	"unsafe"

	json "github.com/go-json-experiment/json"
)

// Hooks are the functions a guard implements; nil hooks are not offered
// to the host.
type Hooks struct {
	// Init receives the guard's JSON configuration once per instance; an
	// error fails the instance.
	Init       func(config []byte) error
	ToolList   func(*Input) Verdict
	ToolCall   func(*Input) Verdict
	ToolIntent func(*Input) Verdict
	// ToolRequest judges a tools/call before the upstream runs it (ABI
	// 1.2): Input has Tool and Arguments, no Output. A block refuses the
	// call and the upstream never sees it.
	ToolRequest func(*Input) Verdict
}

// The guest's state. A WebAssembly instance is single-threaded and is the
// unit of isolation: these variables belong to one instance, which the
// host calls one hook at a time.
var (
	hooks  Hooks
	inBuf  []byte // the host writes each input here (gh_alloc)
	outBuf []byte // the last verdict, valid until the next call
)

// Register installs the guard's hooks; call it from init.
func Register(h Hooks) { hooks = h }

func init() {
	// Go's collector in WebAssembly stops the world and marks the whole
	// heap, which for a guard includes every compiled expression: at the
	// default GOGC it ran every few calls and dominated their cost (and
	// paused for up to ~190 ms). Let the heap grow 8x between cycles,
	// bounded by a soft limit that stays under the host's smallest memory
	// cap (32 MiB).
	debug.SetGCPercent(800)
	debug.SetMemoryLimit(24 << 20)
}

//go:wasmexport gh_abi_v1
func abiV1() {}

//go:wasmexport gh_abi_minor
func abiMinor() int32 { return ABIMinor }

// Hook bits of gh_hooks.
const (
	bitToolList    = 1
	bitToolCall    = 2
	bitToolIntent  = 4
	bitToolRequest = 8
)

//go:wasmexport gh_hooks
func registered() int32 {
	var bits int32
	if hooks.ToolList != nil {
		bits |= bitToolList
	}
	if hooks.ToolCall != nil {
		bits |= bitToolCall
	}
	if hooks.ToolIntent != nil {
		bits |= bitToolIntent
	}
	if hooks.ToolRequest != nil {
		bits |= bitToolRequest
	}
	return bits
}

//go:wasmexport gh_alloc
func alloc(size int32) int32 {
	if size < 0 {
		return 0
	}
	if int(size) > cap(inBuf) {
		inBuf = make([]byte, size)
	}
	inBuf = inBuf[:size]
	if size == 0 {
		return 0
	}
	return int32(uintptr(unsafe.Pointer(&inBuf[0])))
}

//go:wasmexport gh_init
func initGuard(ptr, size int32) int32 {
	if hooks.Init == nil {
		return 0
	}
	if err := hooks.Init(input(ptr, size)); err != nil {
		return 1
	}
	return 0
}

func input(ptr, size int32) []byte {
	if size <= 0 || len(inBuf) < int(size) || int32(uintptr(unsafe.Pointer(&inBuf[0]))) != ptr {
		return nil
	}
	return inBuf[:size]
}

func run(fn func(*Input) Verdict, ptr, size int32) int64 {
	if fn == nil {
		return 0
	}
	var in Input
	if err := json.Unmarshal(input(ptr, size), &in); err != nil {
		return emit(Verdict{V: ABIVersion, Action: "error", Reasons: []Reason{{Code: "bad-input", Message: err.Error()}}})
	}
	v := fn(&in)
	if v.Action == ActionAllow && len(v.Reasons) == 0 {
		return 0
	}
	return emit(v)
}

func emit(v Verdict) int64 {
	if v.V == 0 {
		v.V = ABIVersion
	}
	data, err := json.Marshal(v)
	if err != nil {
		return 0
	}
	outBuf = data
	return int64(uintptr(unsafe.Pointer(&outBuf[0])))<<32 | int64(len(outBuf))
}

//go:wasmexport gh_tool_list
func toolList(ptr, size int32) int64 { return run(hooks.ToolList, ptr, size) }

//go:wasmexport gh_tool_call
func toolCall(ptr, size int32) int64 { return run(hooks.ToolCall, ptr, size) }

//go:wasmexport gh_tool_intent
func toolIntent(ptr, size int32) int64 { return run(hooks.ToolIntent, ptr, size) }

//go:wasmexport gh_tool_request
func toolRequest(ptr, size int32) int64 { return run(hooks.ToolRequest, ptr, size) }
