// Command outside points its verdict past the end of its memory.
package main

import "unsafe"

var buf [1 << 16]byte

//go:wasmexport gh_abi_v1
func abi() {}

//go:wasmexport gh_alloc
func alloc(n int32) int32 { return int32(uintptr(unsafe.Pointer(&buf[0]))) }

//go:wasmexport gh_tool_call
func call(p, n int32) int64 { return int64(0x7FFFFF00)<<32 | 4096 }

func main() {}
