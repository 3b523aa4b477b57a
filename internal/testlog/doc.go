// Package testlog is test support: a buffer that one goroutine may write
// (a logger, a command's output) while a test reads it, so tests need no
// copy of their own.
package testlog
