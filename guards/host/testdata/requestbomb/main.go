// Command requestbomb allocates in its pre-call hook (ABI 1.2) until the
// memory cap stops it.
package main

import "unsafe"

var buf [1 << 16]byte
var hoard [][]byte

//go:wasmexport gh_abi_v1
func abi() {}

//go:wasmexport gh_alloc
func alloc(n int32) int32 { return int32(uintptr(unsafe.Pointer(&buf[0]))) }

//go:wasmexport gh_tool_request
func request(p, n int32) int64 {
	for {
		b := make([]byte, 1<<20)
		b[0] = 1
		hoard = append(hoard, b)
	}
}

func main() {}
