package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/wire"
)

// A huge bad argument gets a short error that names it.
func TestArgErrorsQuoteShort(t *testing.T) {
	env := map[string]string{"ONECXI_API_KEY": "ocx_k", "ONECXI_SERVER_URL": "http://127.0.0.1:1", "ONECXI_ACCOUNT": "demo", "ONECXI_NUMBER": "1001"}
	getenv := func(k string) string { return env[k] }
	huge := strings.Repeat("7", 1<<20) + "x"
	tests := []struct {
		name string
		args []string
		keep string
	}{
		{"duration flag", []string{"-duration", huge, "listen"}, "-duration"},
		{"unknown flag", []string{"-" + huge}, "not defined"},
		{"bad flag syntax", []string{"---" + huge}, "bad flag syntax"},
		{"flag value", []string{"-duration=" + huge, "listen"}, "-duration"},
		{"target", []string{"app", huge}, "is not a number"},
		{"command", []string{huge}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseArgs(tt.args, getenv)
			require.Error(t, err)
			msg := err.Error()
			assert.Less(t, len(msg), 200, "%s", wire.Quote(msg))
			assert.Contains(t, msg, tt.keep)
			assert.NotContains(t, msg, strings.Repeat("7", wire.QuoteRunes+1))
		})
	}
}

// An -in that is neither a tone nor a readable file is named short.
func TestInSpecQuotesShort(t *testing.T) {
	huge := strings.Repeat("7", 1<<20)
	for _, in := range []string{"tone:" + huge, "/nonexistent/" + huge + ".wav"} {
		err := checkFiles(options{in: in})
		require.Error(t, err)
		assert.Less(t, len(err.Error()), 300, "%s", wire.Quote(err.Error()))
		assert.Contains(t, err.Error(), "-in ")
	}
}
