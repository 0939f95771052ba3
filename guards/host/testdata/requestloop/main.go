// Command requestloop never returns from its pre-call hook (ABI 1.2).
package main

import "unsafe"

var buf [1 << 16]byte

//go:wasmexport gh_abi_v1
func abi() {}

//go:wasmexport gh_alloc
func alloc(n int32) int32 { return int32(uintptr(unsafe.Pointer(&buf[0]))) }

//go:wasmexport gh_tool_request
func request(p, n int32) int64 {
	x := 0
	for {
		x++
		buf[x%len(buf)]++
	}
}

func main() {}
