//go:build unix

package instance

import (
	"fmt"
	"os"
	"syscall"
)

// checkPrivate refuses a directory that is not this user's own or that
// others can enter: a socket there could be someone else's.
func checkPrivate(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("instance: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("instance: %s is not a directory", dir)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("instance: %s belongs to another user", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("instance: %s is open to other users (mode %v)", dir, fi.Mode().Perm())
	}
	return nil
}
