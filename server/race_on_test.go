//go:build race

package server

// raceEnabled: under the race detector sync.Pool drops items at random on
// purpose, so pooled buffers allocate; allocation counts mean nothing.
const raceEnabled = true
