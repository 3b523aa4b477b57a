//go:build !linux

package main

import "errors"

// canPin: pinning to CPUs is implemented for Linux only.
const canPin = false

func usableCPUs([]int) error {
	return errors.New("pinning to CPUs needs Linux")
}

func pinProcess([]int) error {
	return errors.New("pinning to CPUs needs Linux")
}
