package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeModule writes a module with one file, and a patches directory with
// the given patch and an added file.
func fakeModule(t *testing.T, patch string) (mod, patches string) {
	t.Helper()
	root := t.TempDir()
	mod = filepath.Join(root, "mod")
	patches = filepath.Join(root, "patches")
	write(t, filepath.Join(mod, "go.mod"), "module fyne.io/fyne/v2\n")
	write(t, filepath.Join(mod, "loop/loop.go"), "package loop\n\nfunc tick() {\n\tpoll()\n}\n")
	write(t, filepath.Join(patches, "VERSION"), "v2.7.1\n")
	write(t, filepath.Join(patches, "idle.patch"), patch)
	write(t, filepath.Join(patches, "_add/loop/idle.go"), "package loop\n\nfunc sleep() {}\n")
	return mod, patches
}

func write(t *testing.T, path, text string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(text), 0o444)) // read-only, like the module cache
}

const fits = `--- a/loop/loop.go
+++ b/loop/loop.go
@@ -1,5 +1,6 @@
 package loop
 
 func tick() {
 	poll()
+	sleep()
 }
`

func TestBuildAppliesPatchAndAddsFiles(t *testing.T) {
	mod, patches := fakeModule(t, fits)
	dst := filepath.Join(t.TempDir(), "patched")
	require.NoError(t, build(patches, mod, dst, "stamp1"))

	got, err := os.ReadFile(filepath.Join(dst, "loop/loop.go"))
	require.NoError(t, err)
	require.Equal(t, "package loop\n\nfunc tick() {\n\tpoll()\n\tsleep()\n}\n", string(got))
	require.FileExists(t, filepath.Join(dst, "loop/idle.go"))
	require.FileExists(t, filepath.Join(dst, "go.mod"))
	stamp, err := os.ReadFile(filepath.Join(dst, ".patched"))
	require.NoError(t, err)
	require.Equal(t, "stamp1", string(stamp))
	// The module itself is untouched.
	orig, err := os.ReadFile(filepath.Join(mod, "loop/loop.go"))
	require.NoError(t, err)
	require.NotContains(t, string(orig), "sleep")
}

func TestBuildRefuses(t *testing.T) {
	tests := []struct {
		name, patch, extra, want string
	}{
		{"a patch that does not fit", "--- a/loop/loop.go\n+++ b/loop/loop.go\n@@ -1,3 +1,3 @@\n package loop\n \n-func tock() {\n+func tick() {\n", "", "git apply"},
		{"a path out of the module", "--- a/../x.go\n+++ b/../x.go\n@@ -1 +1 @@\n-a\n+b\n", "", "leaves the module"},
		{"an added file that exists in Fyne", fits, "loop/loop.go", "would replace Fyne's file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mod, patches := fakeModule(t, tt.patch)
			if tt.extra != "" {
				write(t, filepath.Join(patches, "_add", tt.extra), "package loop\n")
			}
			dst := filepath.Join(t.TempDir(), "patched")
			err := build(patches, mod, dst, "s")
			require.ErrorContains(t, err, tt.want)
			require.NoFileExists(t, filepath.Join(dst, ".patched"), "a failed build must not look done")
		})
	}
}

func TestPatchSumChangesWithPatches(t *testing.T) {
	mod, patches := fakeModule(t, fits)
	m := module{Version: "v2.7.1", Dir: mod}
	a, err := patchSum(patches, m)
	require.NoError(t, err)
	require.NoError(t, os.Chmod(filepath.Join(patches, "_add/loop/idle.go"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(patches, "_add/loop/idle.go"), []byte("package loop\n"), 0o644))
	b, err := patchSum(patches, m)
	require.NoError(t, err)
	require.NotEqual(t, a, b)
	m.Version = "v2.7.2"
	c, err := patchSum(patches, m)
	require.NoError(t, err)
	require.NotEqual(t, b, c)
}

func TestGoLine(t *testing.T) {
	dir := t.TempDir()
	for text, want := range map[string]string{
		"module x\n\ngo 1.26.0\n":                 "1.26.0",
		"module x\ngo 1.27\ntoolchain go1.27.3\n": "1.27",
		"module x\n": "",
	} {
		p := filepath.Join(dir, "go.mod")
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		got, err := goLine(p)
		if want == "" {
			require.Error(t, err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
}
