package app

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server/servertest"
	"github.com/onecxi/phone/wire"
)

// A huge bad flag gets a short error, printed short too.
func TestConfigErrorsQuoteShort(t *testing.T) {
	huge := strings.Repeat("7", 1<<20) + "x"
	tests := []struct {
		name string
		args []string
		keep string
	}{
		{"unknown flag", []string{"-" + huge}, "not defined"},
		{"number", []string{"-number", huge}, "-number"},
		{"audio", []string{"-audio", huge}, "-audio"},
		{"tone", []string{"-audio", "tone:" + huge}, "-audio"},
		{"argument", []string{"tel:1", huge}, "unexpected argument"},
		{"service number", []string{"-service-numbers", "1," + huge}, "-service-numbers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out servertest.SyncBuffer
			_, err := ParseConfig(tt.args, func(string) string { return "" }, &out)
			require.Error(t, err)
			msg := err.Error()
			assert.Less(t, len(msg), 200, "%s", wire.Quote(msg))
			assert.Contains(t, msg, tt.keep)
			assert.NotContains(t, out.String(), strings.Repeat("7", wire.QuoteRunes+1))
		})
	}
}
