// Command loop never returns from its hook.
package main

var buf [1 << 16]byte

//go:wasmexport gh_abi_v1
func abi() {}

//go:wasmexport gh_alloc
func alloc(n int32) int32 { return ptr() }

//go:wasmexport gh_tool_call
func call(p, n int32) int64 {
	x := 0
	for {
		x++
		buf[x%len(buf)]++
	}
}

func main() {}
