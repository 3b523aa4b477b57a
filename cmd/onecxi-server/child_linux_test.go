package main

import "syscall"

// childAttr makes a node process die with the test process (a test binary
// killed by go test's -timeout leaves no server behind).
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
