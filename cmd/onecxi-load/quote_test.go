package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/wire"
)

// A huge bad flag gets a short error that names it.
func TestFlagErrorsQuoteShort(t *testing.T) {
	huge := strings.Repeat("7", 1<<20) + "x"
	tests := []struct {
		name string
		args []string
		keep string
	}{
		{"duration", []string{"-duration", huge}, "-duration"},
		{"unknown flag", []string{"-" + huge}, "not defined"},
		{"calls", []string{"-calls", huge}, "-calls"},
		{"stream", []string{"-stream", huge}, "-stream"},
		{"nodes", []string{"-nodes", huge}, "-nodes"},
		{"nodes list", []string{"-nodes", "1,2," + huge}, "-nodes"},
		{"argument", []string{huge}, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFlags(tt.args)
			require.Error(t, err)
			msg := err.Error()
			assert.Less(t, len(msg), 200, "%s", wire.Quote(msg))
			assert.Contains(t, msg, tt.keep)
			assert.NotContains(t, msg, strings.Repeat("7", wire.QuoteRunes+1))
		})
	}
	_, err := newTarget("ftp://"+huge, "a", "k", false)
	require.Error(t, err)
	assert.Less(t, len(err.Error()), 200)
	_, err = newTarget("http://h/%zz"+huge, "a", "k", false)
	require.Error(t, err)
	assert.Less(t, len(err.Error()), 200, "%s", wire.Quote(err.Error()))
}
