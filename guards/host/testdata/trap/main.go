// Command trap panics in its hook.
package main

import "unsafe"

var buf [1 << 16]byte

//go:wasmexport gh_abi_v1
func abi() {}

//go:wasmexport gh_alloc
func alloc(n int32) int32 { return int32(uintptr(unsafe.Pointer(&buf[0]))) }

//go:wasmexport gh_tool_call
func call(p, n int32) int64 {
	var m map[string]int
	m["boom"] = 1 // nil map write: a runtime panic
	return 0
}

func main() {}
