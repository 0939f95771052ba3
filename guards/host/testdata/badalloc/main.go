// Command badalloc hands the host a buffer outside its memory, so that the
// host's write of the input would land out of bounds.
package main

//go:wasmexport gh_abi_v1
func abi() {}

//go:wasmexport gh_alloc
func alloc(n int32) int32 { return 0x7FFFFFF0 }

//go:wasmexport gh_tool_call
func call(p, n int32) int64 { return 0 }

func main() {}
