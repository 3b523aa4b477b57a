package instance

import (
	"fmt"
	"os"
	"path/filepath"
)

// Dir returns the per-user directory of the channels, created if missing
// (mode 0700) and checked (checkPrivate): $XDG_RUNTIME_DIR/onecxi, else
// <user cache dir>/onecxi/run.
func Dir() (string, error) {
	base := os.Getenv("XDG_RUNTIME_DIR")
	var dir string
	if base != "" && filepath.IsAbs(base) {
		dir = filepath.Join(base, "onecxi")
	} else {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("instance: no per-user directory: %w", err)
		}
		dir = filepath.Join(cache, "onecxi", "run")
	}
	return dir, EnsurePrivate(dir)
}

// EnsurePrivate creates dir (0700) if needed and checks that only this
// user can enter it.
func EnsurePrivate(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("instance: %w", err)
	}
	return checkPrivate(dir)
}
