package flagparse_test

import (
	"bytes"
	"flag"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/internal/flagparse"
)

func TestParse(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("9", 1<<20)
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		help    bool
	}{
		{"good", []string{"-n", "3"}, false, false},
		{"bad value", []string{"-n", huge}, true, false},
		{"unknown flag", []string{"-" + huge}, true, false},
		{"help", []string{"-h"}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			fs.SetOutput(&out)
			fs.Int("n", 0, "a `number`")
			err := flagparse.Parse(fs, tt.args)
			if !tt.wantErr {
				require.NoError(t, err)
				assert.Empty(t, out.String())
				return
			}
			require.Error(t, err)
			assert.Less(t, len(err.Error()), 300, "the argument is quoted short")
			assert.Less(t, out.Len(), 600, "and so is what is printed")
			assert.Contains(t, out.String(), "a number", "the usage follows")
			assert.Equal(t, tt.help, err == flag.ErrHelp)
		})
	}
}
