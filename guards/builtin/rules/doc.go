// Package rules is the detection logic of the three built-in ToolGuard
// guards: Tool List Guard (ToolList), Tool Call Guard (ToolCall) and Tool
// Intent Guard (ToolIntent).
//
// The package is pure Go with no dependencies outside the standard
// library, no goroutines, no I/O and no unsafe, so the same code runs
// natively (tests, the guard-eval harness) and inside the WebAssembly
// modules the host loads (GOOS=wasip1 GOARCH=wasm).
//
// Every rule is explainable: it emits findings with a stable code, a
// message, a JSON Pointer path and a byte span, and carries a weight w in
// (0, 1). A verdict's score combines the distinct rules that fired as
// 1 - Π(1 - w_i), each rule counted once with its strongest finding, so
// repeating one pattern a hundred times does not push a benign text over
// the threshold. The action follows from the score and the resolved
// sensitivity threshold T (0.7 when the host sends none): block at
// score >= T (redact instead when every finding is a secret in the output),
// flag at score >= T/2, allow below.
//
// Work is bounded: each scanned string is cut to MaxScan bytes, JSON
// documents are walked to a fixed depth and string count, and all regular
// expressions (RE2, linear time) are compiled once at package init.
package rules
