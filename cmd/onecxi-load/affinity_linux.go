package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// canPin: CPU affinity is set with sched_setaffinity(2).
const canPin = true

// usableCPUs checks that this process may run on every one of cpus (its
// affinity now, before any pinning: a child started after the client
// pinned itself inherits the client's CPUs, and may leave them).
func usableCPUs(cpus []int) error {
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil {
		return fmt.Errorf("read CPU affinity: %w", err)
	}
	for _, c := range cpus {
		if !allowed.IsSet(c) {
			return fmt.Errorf("CPU %d is not one this process may run on (%d allowed)", c, allowed.Count())
		}
	}
	return nil
}

// pinProcess restricts every thread of this process to cpus. Threads the
// Go runtime starts later are cloned from pinned ones and inherit it.
func pinProcess(cpus []int) error {
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	// Twice: a thread started while the first pass ran may have been
	// cloned from one not yet pinned.
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("list threads: %w", err)
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("pin thread %d to CPUs %s: %w", tid, formatCPUs(cpus), err)
			}
		}
	}
	return nil
}
