package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/onecxi/phone/server/servertest"
	"github.com/onecxi/phone/wire"
)

// A huge bad flag or argument is reported in a short line: flag's own
// report would repeat it whole.
func TestUsageErrorsQuoteShort(t *testing.T) {
	huge := strings.Repeat("7", 1<<20) + "x"
	tests := []struct {
		name string
		args []string
		keep string
	}{
		{"unknown flag", []string{"-" + huge}, "not defined"},
		{"bad flag syntax", []string{"---" + huge}, "bad flag syntax"},
		{"bad ring timeout", []string{"-ring-timeout", huge}, "-ring-timeout"},
		{"bad log level", []string{"-log-level", huge}, "-log-level"},
		{"stray argument", []string{huge}, "unexpected argument"},
		{"missing config", []string{"-config", "/nonexistent/" + huge}, "load config"},
		{"bad listen override", []string{"-listen", huge}, "listen"},
		{"test-push flag", []string{"test-push", "-ring", huge}, "-ring"},
		{"test-push number", []string{"test-push", "-config", "/nonexistent/" + huge, "-account", "a", "-number", "1"}, "load config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr servertest.SyncBuffer
			code := run(t.Context(), tt.args, strings.NewReader(""), &stdout, &stderr)
			assert.Equal(t, exitUsage, code)
			out := stderr.String()
			assert.Contains(t, out, tt.keep)
			assert.NotContains(t, out, strings.Repeat("7", wire.QuoteRunes+1))
			assert.Less(t, len(out), 8<<10, "the report and the usage, without the input")
			for line := range strings.Lines(out) {
				assert.Less(t, len(line), 300, "%s", wire.Quote(line))
			}
		})
	}
}
