// Command noalloc forgets gh_alloc.
package main

//go:wasmexport gh_abi_v1
func abi() {}

//go:wasmexport gh_tool_call
func call(p, n int32) int64 { return 0 }

func main() {}
