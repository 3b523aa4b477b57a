package fyneloop

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/require"

	_ "github.com/onecxi/phone/internal/localefix" // before Fyne reads the locale
)

var (
	label   *widget.Label
	running bool // a real app runs its loop on the main thread
)

// TestMain runs the tests beside a real Fyne app, whose loop needs the
// main goroutine, and checks at the end that a Quit sent to the sleeping
// loop ends it at once, with the stopped hook run.
func TestMain(m *testing.M) {
	if os.Getenv("DISPLAY") == "" {
		fmt.Println("fyneloop: no X display (make test runs under xvfb-run); the loop tests are skipped")
		os.Exit(m.Run())
	}
	// The app's preferences go to a scratch directory, not the user's; it is
	// emptied here rather than at exit, where Fyne's settings watcher would
	// complain about it going.
	cfg := filepath.Join(os.TempDir(), fmt.Sprintf("onecxi-fyneloop-%d", os.Getuid()))
	if err := errors.Join(os.RemoveAll(cfg), os.MkdirAll(cfg, 0o700)); err != nil {
		fmt.Println("fyneloop:", err)
		os.Exit(1)
	}
	os.Setenv("XDG_CONFIG_HOME", cfg)
	a := app.NewWithID("com.onecxi.phone.fyneloop")
	w := a.NewWindow("fyneloop")
	label = widget.NewLabel("idle")
	w.SetContent(label)
	w.Resize(fyne.NewSize(240, 80))
	w.Show()
	running = true

	// The stopped hook must have run when Run returns: released Fyne could
	// strand it in the main queue at the loop's end and never return from
	// Run (patches/fyne).
	stopped := make(chan struct{})
	a.Lifecycle().SetOnStopped(func() { close(stopped) })
	quitAt := make(chan time.Time, 1)
	done := make(chan int, 1)
	go func() {
		code := m.Run()
		if code == 0 {
			if err := waitAsleep(); err != nil {
				fmt.Println("fyneloop: before Quit:", err)
				code = 1
			}
		}
		quitAt <- time.Now()
		fyne.Do(a.Quit)
		done <- code
	}()
	a.Run()
	took := time.Since(<-quitAt)
	code := <-done
	select {
	case <-stopped:
	default:
		fmt.Println("fyneloop: Run returned before the OnStopped hook ran")
		code = 1
	}
	// A Quit that did not wake the sleeping loop waits out its idle wait.
	if code == 0 && took > missedWake {
		fmt.Printf("fyneloop: Quit from a goroutine took %v: it did not wake the sleeping loop\n", took)
		code = 1
	}
	os.Exit(code)
}

// missedWake: a wake-up that works takes well under a millisecond; one that
// is missed waits out the loop's idle wait, a second (patches/fyne).
const missedWake = 400 * time.Millisecond

func TestLoopSleepsWhenIdle(t *testing.T) {
	needLoop(t)
	require.NoError(t, waitAsleep())
}

func TestDoWakesTheSleepingLoop(t *testing.T) {
	needLoop(t)
	for i := range 3 {
		require.NoError(t, waitAsleep())
		start := time.Now()
		fyne.DoAndWait(func() { label.SetText(fmt.Sprintf("woken %d", i)) })
		took := time.Since(start)
		require.Less(t, took, missedWake, "fyne.DoAndWait on a sleeping loop took %v: the loop was not woken", took)
	}
	// And the change is drawn: the loop ticks on after the call.
	fyne.DoAndWait(func() { require.Equal(t, "woken 2", label.Text) })
}

func TestAnimationStartedOffMainRuns(t *testing.T) {
	needLoop(t)
	require.NoError(t, waitAsleep())
	ticks := make(chan float32, 1000)
	anim := fyne.NewAnimation(300*time.Millisecond, func(f float32) { ticks <- f })
	start := time.Now()
	anim.Start() // from the test's goroutine, while the loop sleeps
	first := <-ticks
	require.Less(t, time.Since(start), missedWake, "the first tick of an animation started on a sleeping loop came late")
	n := 1
	for f := first; f < 1; f = <-ticks {
		n++
	}
	// At 60 ticks a second a 300 ms animation gets ~18; a loop that fell
	// asleep mid-animation would give it one or two.
	require.GreaterOrEqual(t, n, 6, "the loop did not keep ticking while the animation ran")
}

func needLoop(t *testing.T) {
	t.Helper()
	if !running {
		t.Skip("no X display")
	}
}

// waitAsleep waits until the main thread is switched to less than 10 times
// over a second: a loop that ticks 60 times a second is switched to at
// least 60 times (built without patches/fyne, it never is asleep).
func waitAsleep() error {
	deadline := time.Now().Add(20 * time.Second)
	last := -1
	for time.Now().Before(deadline) {
		before, err := mainSwitches()
		if err != nil {
			return err
		}
		time.Sleep(time.Second)
		after, err := mainSwitches()
		if err != nil {
			return err
		}
		if last = after - before; last < 10 {
			return nil
		}
	}
	return fmt.Errorf("the main loop never slept: its thread was switched to %d times in the last second (built without patches/fyne? make test applies it)", last)
}

// mainSwitches counts the context switches of the process's main thread,
// which runs Fyne's loop (the GLFW driver locks it to the main goroutine).
func mainSwitches() (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/self/task/%d/status", os.Getpid()))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	total := 0
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if ok && strings.HasSuffix(k, "ctxt_switches") {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return 0, err
			}
			total += n
		}
	}
	return total, s.Err()
}
