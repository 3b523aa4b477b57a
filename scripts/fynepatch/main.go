// Command fynepatch builds the patched copy of Fyne that the Makefile's
// builds and tests compile against, and the go.work that selects it:
//
//	GOWORK=off go run ./scripts/fynepatch -work .tools/go.work
//	GOWORK=$PWD/.tools/go.work go build ...
//
// patches/fyne holds VERSION (the Fyne version the patch is for), *.patch
// (unified diffs against that version, applied with git apply) and _add/
// (whole new files, our own, added to Fyne's packages). The copy is the
// module from the module cache with the patch applied, in
// .tools/fyne-<version>-patched; the go.work next to it uses this module
// and replaces Fyne with the copy. A plain go build (no GOWORK) still
// builds with the released Fyne. A go.mod that requires another Fyne
// version stops the build with a message, instead of building an unpatched
// or half-patched Fyne. Both are per machine and git-ignored.
//
// Why a patch at all: README, Footprint (the main loop's idle wake-ups).
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

const fyneModule = "fyne.io/fyne/v2"

func main() {
	work := flag.String("work", ".tools/go.work", "go.work file to write (the patched copy goes beside it)")
	patches := flag.String("patches", "patches/fyne", "directory with VERSION, *.patch and _add/")
	gomod := flag.String("gomod", "go.mod", "the main module's go.mod")
	gobin := flag.String("go", "go", "go command")
	flag.Parse()
	if err := run(*gobin, *gomod, *patches, *work); err != nil {
		fmt.Fprintln(os.Stderr, "fynepatch:", err)
		os.Exit(1)
	}
}

func run(gobin, gomod, patches, work string) error {
	for _, p := range []*string{&gomod, &patches, &work} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	want, err := os.ReadFile(filepath.Join(patches, "VERSION"))
	if err != nil {
		return err
	}
	mod, err := download(gobin, filepath.Dir(gomod))
	if err != nil {
		return err
	}
	if v := strings.TrimSpace(string(want)); v != mod.Version {
		return fmt.Errorf("%s is for %s %s, but go.mod requires %s: port the patch to that version (or go back to %s)",
			patches, fyneModule, v, mod.Version, v)
	}
	goVersion, err := goLine(gomod)
	if err != nil {
		return err
	}

	dir := filepath.Join(filepath.Dir(work), "fyne-"+mod.Version+"-patched")
	stamp, err := patchSum(patches, mod)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(filepath.Join(dir, ".patched")); err != nil || string(old) != stamp {
		if err := build(patches, mod.Dir, dir, stamp); err != nil {
			return err
		}
		fmt.Printf("fynepatch: %s %s with patches/fyne: %s\n", fyneModule, mod.Version, dir)
	}

	rel, err := filepath.Rel(filepath.Dir(work), filepath.Dir(gomod))
	if err != nil {
		return err
	}
	text := fmt.Sprintf("// Written by scripts/fynepatch: the Makefile's builds use Fyne with patches/fyne.\ngo %s\n\nuse %s\n\nreplace %s %s => ./%s\n",
		goVersion, filepath.ToSlash(rel), fyneModule, mod.Version, filepath.Base(dir))
	if old, err := os.ReadFile(work); err == nil && string(old) == text {
		return nil
	}
	return os.WriteFile(work, []byte(text), 0o644)
}

type module struct {
	Version, Dir, Error string
}

// download fetches the Fyne version go.mod requires (a no-op once it is in
// the module cache) and returns where it is.
func download(gobin, root string) (module, error) {
	var m module
	cmd := exec.Command(gobin, "mod", "download", "-json", fyneModule)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stderr = os.Stderr
	data, err := cmd.Output()
	if jerr := json.Unmarshal(data, &m); jerr != nil && err == nil {
		err = jerr
	}
	switch {
	case m.Error != "":
		return m, fmt.Errorf("go mod download %s: %s", fyneModule, m.Error)
	case err != nil:
		return m, fmt.Errorf("go mod download %s: %w", fyneModule, err)
	case m.Dir == "" || m.Version == "":
		return m, fmt.Errorf("go mod download %s: no directory or version in its answer", fyneModule)
	}
	return m, nil
}

var goDirective = regexp.MustCompile(`(?m)^go ([0-9][0-9.]*)\s*$`)

// goLine is go.mod's go version, which go.work must not be below.
func goLine(gomod string) (string, error) {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	m := goDirective.FindSubmatch(data)
	if m == nil {
		return "", fmt.Errorf("%s: no go directive", gomod)
	}
	return string(m[1]), nil
}

// patchSum identifies the patched copy: the Fyne version and every file
// under patches/fyne.
func patchSum(patches string, mod module) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", mod.Version, mod.Dir)
	err := filepath.WalkDir(patches, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(patches, path)
		fmt.Fprintf(h, "%s %d\n", filepath.ToSlash(rel), len(data))
		h.Write(data)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// build copies the module to dir (writable), applies the patches and adds
// the new files, and writes the stamp last, so a copy cut short is built
// again next time.
func build(patches, modDir, dir, stamp string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := copyTree(modDir, dir); err != nil {
		return err
	}
	if err := applyPatches(patches, dir); err != nil {
		return err
	}
	added := filepath.Join(patches, "_add")
	err := filepath.WalkDir(added, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(added, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dir, rel)
		if _, err := os.Stat(target); err == nil {
			return fmt.Errorf("_add/%s exists in %s: it would replace Fyne's file; make it a patch", rel, fyneModule)
		}
		return copyFile(path, target)
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ".patched"), []byte(stamp), 0o644)
}

// applyPatches applies patches/fyne/*.patch to the copy in dir. git apply
// runs in a scratch directory outside any work tree (run inside this
// repository it would take paths as relative to the repository), and
// refuses a patch that does not fit exactly.
func applyPatches(patches, dir string) error {
	diffs, err := filepath.Glob(filepath.Join(patches, "*.patch"))
	if err != nil || len(diffs) == 0 {
		return fmt.Errorf("no *.patch in %s", patches)
	}
	sort.Strings(diffs)
	var files []string
	seen := map[string]bool{}
	for _, d := range diffs {
		data, err := os.ReadFile(d)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(data), "\n") {
			if f, ok := strings.CutPrefix(line, "+++ b/"); ok && !seen[f] {
				if strings.Contains(f, "..") || filepath.IsAbs(f) {
					return fmt.Errorf("%s: path %.40q leaves the module", d, f)
				}
				seen[f] = true
				files = append(files, f)
			}
		}
	}
	scratch, err := os.MkdirTemp("", "fynepatch-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	for _, f := range files {
		if err := copyFile(filepath.Join(dir, f), filepath.Join(scratch, f)); err != nil {
			return err
		}
	}
	cmd := exec.Command("git", append([]string{"apply", "-p1"}, diffs...)...)
	cmd.Dir = scratch
	cmd.Env = append(os.Environ(), "GIT_CEILING_DIRECTORIES="+filepath.Dir(scratch))
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git apply %s: %w\n%s", strings.Join(diffs, " "), err, bytes.TrimSpace(msg))
	}
	for _, f := range files {
		if err := copyFile(filepath.Join(scratch, f), filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	return nil
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		return copyFile(path, filepath.Join(dst, rel))
	})
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}
