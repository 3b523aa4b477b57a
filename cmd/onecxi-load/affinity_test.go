package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCPUs(t *testing.T) {
	good := []struct {
		in   string
		want []int
	}{
		{"0", []int{0}},
		{"0,2-3", []int{0, 2, 3}},
		{" 3, 1 ,1-2", []int{1, 2, 3}},
		{"5-5", []int{5}},
		{"1023", []int{1023}},
	}
	for _, tt := range good {
		got, err := parseCPUs(tt.in)
		require.NoError(t, err, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
		again, err := parseCPUs(formatCPUs(got))
		require.NoError(t, err)
		assert.Equal(t, got, again, "formatCPUs writes what parseCPUs reads")
	}
	for _, in := range []string{"", "a", "-1", "3-1", "1024", "0,,1", "1-", "2-x", "0-5000", "0123456789012345678901234567"} {
		_, err := parseCPUs(in)
		require.Error(t, err, "%q", in)
		assert.LessOrEqual(t, len(err.Error()), 120, "a short prefix of the input, not all of it: %v", err)
	}
}

func TestCPUFlags(t *testing.T) {
	if !canPin {
		_, err := parseFlags([]string{"-client-cpus", "0"})
		assert.ErrorContains(t, err, "needs Linux")
		return
	}
	c, err := parseFlags([]string{"-client-cpus", "0", "-server-cpus", "1-2"})
	require.NoError(t, err)
	assert.Equal(t, []int{0}, c.clientCPUs)
	assert.Equal(t, []int{1, 2}, c.serverCPUs)

	c, err = parseFlags(nil)
	require.NoError(t, err)
	assert.Nil(t, c.clientCPUs, "not pinned unless asked")
	assert.Nil(t, c.serverCPUs)

	_, err = parseFlags([]string{"-client-cpus", "x"})
	assert.ErrorContains(t, err, "-client-cpus")
	t.Setenv("ONECXI_API_KEY", "k")
	_, err = parseFlags([]string{"-server-cpus", "0", "-server", "http://127.0.0.1:1", "-account", "a"})
	assert.ErrorContains(t, err, "-server-cpus")
}
