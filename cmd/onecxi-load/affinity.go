package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/onecxi/phone/wire"
)

// childCPUsEnv tells a child process which CPUs to run on (-server-cpus),
// in parseCPUs' form.
const childCPUsEnv = "ONECXI_LOAD_CPUS"

// maxCPU bounds a CPU number in a list (Linux's default CPU set size).
const maxCPU = 1024

// parseCPUs reads a CPU list as taskset -c takes it: numbers and ranges,
// comma-separated ("0", "2-3", "0,2-3"). The result is sorted, without
// repeats.
func parseCPUs(s string) ([]int, error) {
	var cpus []int
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, errA := strconv.Atoi(lo)
		b, errB := a, error(nil)
		if isRange {
			b, errB = strconv.Atoi(hi)
		}
		if errA != nil || errB != nil || a < 0 || b < a || b >= maxCPU {
			return nil, fmt.Errorf("%s is not a CPU number or range (0-%d, as in 0,2-3)", wire.Quote(part), maxCPU-1)
		}
		for n := a; n <= b; n++ {
			cpus = append(cpus, n)
		}
	}
	slices.Sort(cpus)
	return slices.Compact(cpus), nil
}

// formatCPUs writes cpus back in parseCPUs' form.
func formatCPUs(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}

// pinChild pins a child process to the CPUs childCPUsEnv names, if it
// names any, and sizes GOMAXPROCS to them unless GOMAXPROCS is set (the
// runtime chose it from every CPU before the pinning).
func pinChild() error {
	v := os.Getenv(childCPUsEnv)
	if v == "" {
		return nil
	}
	cpus, err := parseCPUs(v)
	if err != nil {
		return fmt.Errorf("%s: %w", childCPUsEnv, err)
	}
	if err := pinProcess(cpus); err != nil {
		return err
	}
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(len(cpus))
	}
	return nil
}
