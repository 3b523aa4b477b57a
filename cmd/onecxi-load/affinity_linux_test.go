package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// A server child started with childCPUsEnv runs every thread on those
// CPUs, and a CPU this process may not use is refused before anything
// changes.
func TestServerChildIsPinned(t *testing.T) {
	var allowed unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(0, &allowed))
	cpu := -1
	for c := range maxCPU {
		if allowed.IsSet(c) {
			cpu = c // the last allowed: not simply CPU 0
		}
	}
	require.GreaterOrEqual(t, cpu, 0)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, ch, err := startChild(ctx, "server", childArg, listenLine,
		childKeyEnv+"=k", fmt.Sprintf("%s=%d", childCPUsEnv, cpu))
	require.NoError(t, err)
	defer ch.stop()
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", ch.pid))
	require.NoError(t, err)
	require.NotEmpty(t, tasks)
	for _, task := range tasks {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", ch.pid, task.Name()))
		if os.IsNotExist(err) {
			continue // the thread ended
		}
		require.NoError(t, err)
		assert.Contains(t, string(status), fmt.Sprintf("Cpus_allowed_list:\t%d\n", cpu), "thread %s", task.Name())
	}

	// A CPU this process may not use is refused (and nothing is pinned).
	if !allowed.IsSet(maxCPU - 1) {
		err := usableCPUs([]int{cpu, maxCPU - 1})
		require.Error(t, err)
		assert.True(t, strings.Contains(err.Error(), "not one this process may run on"), "%v", err)
	}
	assert.NoError(t, usableCPUs([]int{cpu}))
}
