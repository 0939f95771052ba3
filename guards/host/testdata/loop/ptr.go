package main

import "unsafe"

func ptr() int32 { return int32(uintptr(unsafe.Pointer(&buf[0]))) }
