package localefix

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLanguageFor(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
		set  bool
	}{
		{map[string]string{"LANG": "C.UTF-8"}, "en", true},
		{map[string]string{"LANG": "C.utf8"}, "en", true},
		{map[string]string{"LC_ALL": "POSIX@euro", "LANG": "de_DE.UTF-8"}, "en", true},
		{map[string]string{"LC_MESSAGES": "C.UTF-8", "LANG": "fr_FR.UTF-8"}, "en", true},
		{map[string]string{"LANG": "C"}, "", false},
		{map[string]string{"LANG": "POSIX"}, "", false},
		{map[string]string{"LANG": "de_DE.UTF-8"}, "", false},
		{map[string]string{"LC_ALL": "de_DE.UTF-8", "LANG": "C.UTF-8"}, "", false},
		{map[string]string{"LANG": "C.UTF-8", "LANGUAGE": "fr"}, "", false},
		{map[string]string{}, "", false},
	}
	for _, tt := range tests {
		got, set := languageFor(func(k string) string { return tt.env[k] })
		assert.Equal(t, tt.set, set, "%v", tt.env)
		assert.Equal(t, tt.want, got, "%v", tt.env)
	}
}

// TestInitRunsBeforeFyne builds a program importing this package and Fyne's
// lang package (testdata/probe) and runs it under LANG=C.UTF-8: Fyne must not complain about
// the locale, which it does only if its init ran first.
func TestInitRunsBeforeFyne(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	bin := filepath.Join(t.TempDir(), "probe")
	build := exec.Command("go", "build", "-o", bin, "./testdata/probe")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	run := exec.Command(bin)
	run.Env = append(os.Environ(), "LANG=C.UTF-8", "LC_ALL=", "LC_MESSAGES=", "LANGUAGE=")
	out, err = run.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.NotContains(t, string(out), "Error parsing user locale", "Fyne's init ran before localefix's")
	assert.Equal(t, "Quit", strings.TrimSpace(string(out)))
}
