// Command garbage returns bytes that are not a verdict.
package main

import "unsafe"

var buf [1 << 16]byte
var out = []byte("this is not JSON at all")

//go:wasmexport gh_abi_v1
func abi() {}

//go:wasmexport gh_alloc
func alloc(n int32) int32 { return int32(uintptr(unsafe.Pointer(&buf[0]))) }

//go:wasmexport gh_tool_call
func call(p, n int32) int64 {
	return int64(uintptr(unsafe.Pointer(&out[0])))<<32 | int64(len(out))
}

func main() {}
