// Package pgtest runs a real PostgreSQL for tests: Debian's server
// binaries (package postgresql, which `make test` installs), a cluster in
// a temporary directory on a private port and socket directory, started
// on first use ([URL]) and stopped by [Stop]. PostgreSQL refuses to run as
// root, so as root the cluster belongs to, and runs as, the postgres
// system user. Only tests import it.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
)

var pg struct {
	once    sync.Once
	err     error
	skip    string
	bin     string
	dir     string
	port    int
	cred    *syscall.Credential
	counter atomic.Int64
}

// Stop stops the test cluster, if one was started; call it from TestMain
// after m.Run.
func Stop() {
	if pg.dir != "" {
		_ = pgCmd("pg_ctl", "-D", filepath.Join(pg.dir, "data"), "-m", "immediate", "-w", "stop").Run()
		_ = os.RemoveAll(pg.dir)
	}
}

func pgBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d
		}
	}
	return ""
}

func pgCmd(name string, args ...string) *exec.Cmd {
	c := exec.Command(filepath.Join(pg.bin, name), args...)
	c.Dir = pg.dir
	c.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	if pg.cred != nil {
		c.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	}
	return c
}

func startPostgres() {
	pg.bin = pgBinDir()
	if pg.bin == "" {
		if os.Geteuid() == 0 {
			pg.err = fmt.Errorf("PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) are missing: apt-get install postgresql (make test does)")
		} else {
			pg.skip = "PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) are missing and we are not root to install them: apt-get install postgresql, or run make test"
		}
		return
	}
	dir, err := os.MkdirTemp("", "onecxi-pg-")
	if err != nil {
		pg.err = err
		return
	}
	pg.dir = dir
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			pg.err = fmt.Errorf("running as root, PostgreSQL needs the postgres system user (the postgresql package makes it): %w", err)
			return
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			pg.err = err
			return
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pg.err = err
		return
	}
	pg.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	data := filepath.Join(dir, "data")
	if out, err := pgCmd("initdb", "-D", data, "-A", "trust", "-U", "onecxi", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		pg.err = fmt.Errorf("initdb: %v\n%s", err, out)
		return
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off", pg.port, dir)
	if out, err := pgCmd("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		pg.err = fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
		return
	}
}

// URL returns the URL of a new, empty database in the test cluster,
// starting the cluster on first use. Without PostgreSQL's binaries it
// skips the test, or, as root (who can install them, as make test does),
// fails it.
func URL(t testing.TB) string {
	t.Helper()
	pg.once.Do(startPostgres)
	if pg.skip != "" {
		t.Skip(pg.skip)
	}
	if pg.err != nil {
		t.Fatalf("test PostgreSQL: %v", pg.err)
	}
	name := fmt.Sprintf("t%d", pg.counter.Add(1))
	admin, err := sql.Open("pgx", fmt.Sprintf("postgres://onecxi@127.0.0.1:%d/postgres?sslmode=disable", pg.port))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return fmt.Sprintf("postgres://onecxi@127.0.0.1:%d/%s?sslmode=disable", pg.port, name)
}
