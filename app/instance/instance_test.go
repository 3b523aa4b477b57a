package instance

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// privateDir is a short private directory (a socket path must stay under
// about 100 bytes, which t.TempDir's can exceed).
func privateDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ocx")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, EnsurePrivate(filepath.Join(dir, "run")))
	return filepath.Join(dir, "run")
}

// recorder is a Handler that keeps what it was asked.
type recorder struct {
	mu   sync.Mutex
	got  []Request
	fail error
}

func (r *recorder) handle(req Request) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, req)
	return r.fail
}

func (r *recorder) requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.got...)
}

func TestSecondStartHandsOver(t *testing.T) {
	dir := privateDir(t)
	rec := &recorder{}
	s, err := Acquire(dir, "default", rec.handle, quiet)
	require.NoError(t, err)
	defer s.Close()

	_, err = Acquire(dir, "default", rec.handle, quiet)
	require.ErrorIs(t, err, ErrRunning, "one instance per profile")
	other, err := Acquire(dir, "p-1002", rec.handle, quiet)
	require.NoError(t, err, "another profile is another phone")
	other.Close()

	require.NoError(t, Send(context.Background(), dir, "default", Request{}))
	require.NoError(t, Send(context.Background(), dir, "default", Request{Link: "tel:+14155550100"}))
	assert.Equal(t, []Request{{}, {Link: "tel:+14155550100"}}, rec.requests())

	rec.fail = errors.New("not a phone number")
	err = Send(context.Background(), dir, "default", Request{Link: "tel:abc"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a phone number")
}

func TestSendWithoutAnInstance(t *testing.T) {
	dir := privateDir(t)
	err := Send(context.Background(), dir, "default", Request{})
	assert.ErrorIs(t, err, ErrNotRunning)
}

// A channel that cannot be taken says why: the listen error is kept.
func TestAcquireSaysWhyTheChannelCannotBeTaken(t *testing.T) {
	dir := privateDir(t)
	long := strings.Repeat("x", 120) // past a Unix socket path's 108 bytes
	_, err := Acquire(dir, long, (&recorder{}).handle, quiet)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrRunning)
	var oe *net.OpError
	require.ErrorAs(t, err, &oe, "the listen error is wrapped: %v", err)
	assert.Equal(t, "listen", oe.Op)
}

func TestStaleChannelIsTakenOver(t *testing.T) {
	dir := privateDir(t)
	// A phone that died left its socket behind: a Unix listener closed
	// without unlinking is what a crash leaves.
	ln, err := net.Listen("unix", socketPath(dir, "default"))
	require.NoError(t, err)
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, ln.Close())
	_, err = os.Stat(socketPath(dir, "default"))
	require.NoError(t, err, "the stale socket is there")

	rec := &recorder{}
	s, err := Acquire(dir, "default", rec.handle, quiet)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, Send(context.Background(), dir, "default", Request{Link: "tel:1"}))
	assert.Len(t, rec.requests(), 1)
}

func TestBadRequestsAreRefused(t *testing.T) {
	dir := privateDir(t)
	rec := &recorder{}
	s, err := Acquire(dir, "default", rec.handle, quiet)
	require.NoError(t, err)
	defer s.Close()
	for name, raw := range map[string]string{
		"not JSON":      "hello\n",
		"unknown field": `{"link":"tel:1","exec":"rm -rf /"}` + "\n",
		"too long":      `{"link":"` + strings.Repeat("1", maxRequest) + `"}` + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := net.Dial("unix", s.Path())
			require.NoError(t, err)
			defer c.Close()
			_, _ = c.Write([]byte(raw))
			_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
			b, _ := io.ReadAll(c)
			assert.Contains(t, string(b), `"error"`)
		})
	}
	assert.Empty(t, rec.requests(), "nothing bad reached the phone")
}

func TestDirMustBePrivate(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open")
	require.NoError(t, os.Mkdir(open, 0o755))
	require.NoError(t, os.Chmod(open, 0o755))
	assert.ErrorContains(t, EnsurePrivate(open), "open to other users")
	require.NoError(t, EnsurePrivate(filepath.Join(dir, "new")))
	fi, err := os.Stat(filepath.Join(dir, "new"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
}

// TestHandOverBetweenTwoProcesses: a real second process (this test
// binary, run again as a "second start") hands its link to this one and
// exits 0; with nobody running it exits 3.
func TestHandOverBetweenTwoProcesses(t *testing.T) {
	if os.Getenv("INSTANCE_CHILD_DIR") != "" {
		err := Send(context.Background(), os.Getenv("INSTANCE_CHILD_DIR"), "default",
			Request{Link: os.Getenv("INSTANCE_CHILD_LINK")})
		switch {
		case err == nil:
			os.Exit(0)
		case errors.Is(err, ErrNotRunning):
			os.Exit(3)
		}
		os.Exit(4)
	}
	dir := privateDir(t)
	second := func() int {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHandOverBetweenTwoProcesses$")
		cmd.Env = append(os.Environ(), "INSTANCE_CHILD_DIR="+dir, "INSTANCE_CHILD_LINK=tel:+1 415 555 0100")
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		require.NoError(t, err)
		return 0
	}
	assert.Equal(t, 3, second(), "nobody running")

	rec := &recorder{}
	s, err := Acquire(dir, "default", rec.handle, quiet)
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, 0, second(), "handed over")
	assert.Equal(t, []Request{{Link: "tel:+1 415 555 0100"}}, rec.requests())
}
