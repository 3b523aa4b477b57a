package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/servertest"
)

// heard is the ToneShare above which a tone dominates a recording.
const heard = 0.5

// testServer is the reference server running in-process on a free port,
// with the demo configuration and a trunk that answers quickly.
type testServer struct {
	url, key string
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	cfg, key := server.DemoConfig()
	cfg.Trunk.AnswerDelay = 100 * time.Millisecond
	cfg.RingTimeout = 10 * time.Second
	_, url := servertest.StartServer(t, cfg, server.WithLogger(slog.New(slog.DiscardHandler)))
	return &testServer{url: url, key: key}
}

// args parses a command line as the CLI does, with the server, account
// and key in the environment.
func (s *testServer) args(t *testing.T, number string, args ...string) options {
	t.Helper()
	env := map[string]string{
		"ONECXI_SERVER_URL": s.url, "ONECXI_ACCOUNT": "demo", "ONECXI_API_KEY": s.key, "ONECXI_NUMBER": number,
	}
	o, err := parseArgs(args, func(k string) string { return env[k] })
	require.NoError(t, err)
	return o
}

// testCtx bounds a run so that a hang fails the test instead of the suite.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// readWAV reads a WAV the CLI wrote.
func readWAV(t *testing.T, path string) []int16 {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err, "the output WAV was not written")
	defer f.Close()
	samples, err := audio.ReadWAV(f)
	require.NoError(t, err)
	require.NotEmpty(t, samples)
	return samples
}

// secondHalf is the later half of a recording: after the jitter buffer
// and the echo path have settled.
func secondHalf(s []int16) []int16 { return s[len(s)/2:] }

// assertHears checks that freq dominates the second half of the WAV at path
// and that other is absent from it.
func assertHears(t *testing.T, path string, freq, other float64) {
	t.Helper()
	s := secondHalf(readWAV(t, path))
	assert.Greater(t, dsp.ToneShare(s, freq), heard, "%s: %.0f Hz should dominate", filepath.Base(path), freq)
	if other > 0 {
		assert.Less(t, dsp.ToneShare(s, other), 0.05, "%s: %.0f Hz should be absent", filepath.Base(path), other)
	}
}

func TestRunInboundEcho(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	wav := filepath.Join(t.TempDir(), "echo.wav")
	var out servertest.SyncBuffer
	err := run(testCtx(t), s.args(t, "1001", "-in", "tone:440", "-out", wav, "-duration", "1.5s", "inbound", "90000"), &out)
	require.NoError(t, err, out.String())

	got := out.String()
	for _, want := range []string{
		"begin", "signed in  account demo on " + s.url, "calling    DID 90000 as 1001",
		"websocket  connected", "status     active, call c_", "started    inbound call with 90000 as 1001",
		"hangup     after 1.5s (-duration)", "websocket  closed", "status     idle",
		"ended      inbound call with 90000", "stats      call c_", "stats      audio out: ", "stats      audio in:  ", "stats      jitter:    ",
		"quality    RTT ", "stats      quality:   last sample RTT ",
	} {
		assert.Contains(t, got, want)
	}
	assert.NotContains(t, got, "{", "stats must not be a raw Go struct")
	assert.NotContains(t, got, "error")
	assert.Less(t, strings.Index(got, "started"), strings.Index(got, "ended"))
	assertHears(t, wav, 440, 0)
}

func TestRunInboundIVRDigits(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	var out servertest.SyncBuffer
	err := run(testCtx(t), s.args(t, "1001", "-dtmf", "5", "-dtmf-delay", "100ms", "-duration", "1s", "inbound", "90050"), &out)
	require.NoError(t, err, out.String())
	got := out.String()
	assert.Contains(t, got, "started    inbound call with 90050")
	assert.Contains(t, got, "dtmf       sent 5")
	assert.Less(t, strings.Index(got, "started"), strings.Index(got, "dtmf"))
	assert.NotContains(t, got, "error")
}

func TestRunOutbound(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	wav := filepath.Join(t.TempDir(), "outbound.wav")
	var out servertest.SyncBuffer
	err := run(testCtx(t), s.args(t, "1001", "-in", "tone:440", "-out", wav, "-duration", "1.5s", "outbound", "+14155550100"), &out)
	require.NoError(t, err, out.String())
	got := out.String()
	assert.Contains(t, got, "calling    phone number +14155550100 as 1001")
	assert.Contains(t, got, "status     ringing, call c_")
	assert.Contains(t, got, "started    outbound call with +14155550100 as 1001")
	assert.Contains(t, got, "ended      outbound call with +14155550100")
	assertHears(t, wav, 440, 0) // the simulated trunk echoes
}

// listener runs `listen` for number in the background and waits until it
// is registered with the server.
type listener struct {
	out  servertest.SyncBuffer
	err  error
	done chan struct{}
}

func startListener(t *testing.T, ctx context.Context, o options) *listener {
	t.Helper()
	l := &listener{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		l.err = run(ctx, o, &l.out)
	}()
	require.Eventually(t, func() bool {
		select {
		case <-l.done:
			return true
		default:
			return strings.Contains(l.out.String(), "listening")
		}
	}, 10*time.Second, 10*time.Millisecond)
	require.Contains(t, l.out.String(), "listening  for calls to "+o.number, "listen failed: %v", l.err)
	return l
}

func (l *listener) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-l.done:
		return l.err
	case <-time.After(20 * time.Second):
		t.Fatalf("listen did not return; output:\n%s", l.out.String())
		return nil
	}
}

func TestRunAppToApp(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	dir := t.TempDir()
	calleeWAV, callerWAV := filepath.Join(dir, "callee.wav"), filepath.Join(dir, "caller.wav")
	ctx := testCtx(t)
	// The callee stays until the caller hangs up (-duration 0).
	l := startListener(t, ctx, s.args(t, "1002", "-in", "tone:1004", "-out", calleeWAV, "-duration", "0", "listen"))

	var out servertest.SyncBuffer
	err := run(ctx, s.args(t, "1001", "-in", "tone:440", "-out", callerWAV, "-duration", "1.5s", "app", "1002"), &out)
	require.NoError(t, err, out.String())
	require.NoError(t, l.wait(t), l.out.String())

	caller, callee := out.String(), l.out.String()
	assert.Contains(t, caller, "started    app_to_app call with 1002 as 1001")
	assert.Contains(t, caller, "ended      app_to_app call with 1002")
	assert.Contains(t, callee, "incoming   app_to_app call from 1001")
	assert.Contains(t, callee, "answering  call from 1001")
	assert.Contains(t, callee, "started    app_to_app call with 1001 as 1002")
	assert.Contains(t, callee, "ended      app_to_app call with 1001: the far end hung up")
	assert.NotContains(t, caller, "far end")
	assert.Contains(t, callee, "stats      call c_", "the callee prints stats when the far end hangs up too")
	assert.Contains(t, callee, "end reason remote_hangup: The other party hung up.")
	assert.NotContains(t, callee, "end reason hangup", "the callee did not hang up itself")
	assert.Contains(t, caller, "end reason hangup: You hung up.")

	assertHears(t, calleeWAV, 440, 1004) // each side hears the other, not itself
	assertHears(t, callerWAV, 1004, 440)
}

func TestRunListenDecline(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx := testCtx(t)
	l := startListener(t, ctx, s.args(t, "1002", "-decline", "listen"))

	var out servertest.SyncBuffer
	err := run(ctx, s.args(t, "1001", "app", "1002"), &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "declined by 1002")
	assert.Contains(t, out.String(), "declined   by 1002")
	assert.Contains(t, out.String(), "ended      app_to_app call with 1002")
	assert.Contains(t, out.String(), "stats      call c_")
	assert.Contains(t, out.String(), "not answered")
	assert.NotContains(t, out.String(), "audio out", "no audio stats for a call never answered")
	assert.NotContains(t, out.String(), "started")

	// The listener declines the one call and exits successfully.
	require.NoError(t, l.wait(t), l.out.String())
	assert.Contains(t, l.out.String(), "declining  call from 1001 (-decline)")
	assert.Contains(t, l.out.String(), "declined   call from 1001")
	assert.NotContains(t, l.out.String(), "started")
}

func TestRunListenStopped(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx, cancel := context.WithCancel(testCtx(t))
	l := startListener(t, ctx, s.args(t, "1002", "listen"))
	cancel() // Ctrl-C before any call
	require.NoError(t, l.wait(t))
	got := l.out.String()
	assert.Contains(t, got, "stopped    listening")
	assert.NotContains(t, got, "stats", "no call, no stats")
	assert.NotContains(t, got, "hangup")
}

func TestRunInterrupted(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	var out servertest.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, s.args(t, "1001", "-duration", "0", "inbound", "90000"), &out) }()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "started") }, 10*time.Second, 10*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	assert.Contains(t, out.String(), "hangup     interrupted")
	assert.Contains(t, out.String(), "ended      inbound call with 90000")
	assert.Contains(t, out.String(), "stats      call c_")
}

func TestRunWAVInputEnds(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.wav")
	tone := make([]int16, audio.SampleRate/2) // 0.5 s of 440 Hz
	(&dsp.Tone{Freq: 440, Amplitude: 0.5}).Fill(tone)
	f, err := os.Create(in)
	require.NoError(t, err)
	require.NoError(t, audio.WriteWAV(f, tone))
	require.NoError(t, f.Close())

	var out servertest.SyncBuffer
	err = run(testCtx(t), s.args(t, "1001", "-in", in, "-out", filepath.Join(dir, "out.wav"), "-duration", "0", "inbound", "90000"), &out)
	require.NoError(t, err, out.String())
	assert.Contains(t, out.String(), "hangup     the input WAV has been played")
	assert.Contains(t, out.String(), "ended      inbound call with 90000")
}

func TestRunFailures(t *testing.T) {
	t.Parallel()
	s := startServer(t)

	t.Run("wrong API key", func(t *testing.T) {
		o := s.args(t, "1001", "inbound", "90000")
		o.apiKey = "ocx_not_the_key"
		var out servertest.SyncBuffer
		err := run(testCtx(t), o, &out)
		require.Error(t, err)
		assert.ErrorIs(t, err, callcore.ErrInitializationFailed)
		assert.Contains(t, err.Error(), "sign in: Initialization failed")
		assert.NotContains(t, out.String(), "signed in")
	})

	t.Run("unreachable server", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close()) // nothing listens there any more
		o := s.args(t, "1001", "inbound", "90000")
		o.server = "http://" + addr
		err = run(testCtx(t), o, &servertest.SyncBuffer{})
		require.Error(t, err)
		assert.ErrorIs(t, err, callcore.ErrWebSocketConnectionFailed)
		assert.Contains(t, err.Error(), "WebSocket connection failed")
		assert.Contains(t, err.Error(), "cannot connect to the server")
	})

	t.Run("app user offline", func(t *testing.T) {
		var out servertest.SyncBuffer
		err := run(testCtx(t), s.args(t, "1001", "app", "1009"), &out)
		require.Error(t, err)
		assert.ErrorIs(t, err, callcore.ErrCallFailed)
		assert.Contains(t, err.Error(), "call: ")
		assert.Contains(t, err.Error(), "1009")
		assert.NotContains(t, out.String(), "stats", "a call that was never placed has no stats")
	})

	t.Run("unknown DID", func(t *testing.T) {
		err := run(testCtx(t), s.args(t, "1001", "inbound", "12345"), &servertest.SyncBuffer{})
		require.Error(t, err)
		assert.ErrorIs(t, err, callcore.ErrCallFailed)
	})

	// Bad files fail before anything is dialled.
	t.Run("bad input spec", func(t *testing.T) {
		var out servertest.SyncBuffer
		err := run(testCtx(t), s.args(t, "1001", "-in", "tone:nope", "inbound", "90000"), &out)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `-in "tone:nope"`)
		assert.Empty(t, out.String())
	})

	t.Run("missing input WAV", func(t *testing.T) {
		err := run(testCtx(t), s.args(t, "1001", "-in", filepath.Join(t.TempDir(), "nope.wav"), "inbound", "90000"), &servertest.SyncBuffer{})
		require.Error(t, err)
		assert.ErrorIs(t, err, os.ErrNotExist)
	})

	t.Run("output in a missing directory", func(t *testing.T) {
		var out servertest.SyncBuffer
		err := run(testCtx(t), s.args(t, "1001", "-out", filepath.Join(t.TempDir(), "no", "such", "dir.wav"), "inbound", "90000"), &out)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "-out")
		assert.Empty(t, out.String())
	})

}

func TestFormatStats(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := callcore.CallStats{
		CallID: "c_1", CallType: callcore.CallTypeInbound, Number: "90000",
		StartedAt: start, AnsweredAt: start.Add(12 * time.Millisecond), EndedAt: start.Add(3012 * time.Millisecond),
		Duration:       3 * time.Second,
		FramesCaptured: 150, FramesSent: 148, FramesSuppressed: 2, FramesReceived: 147, FramesPlayed: 150,
		Jitter: audio.JitterStats{Lost: 1, Concealed: 2240, Underruns: 2, TargetDelay: 160036686 * time.Nanosecond},
	}
	assert.Equal(t, []string{
		"call c_1, inbound with 90000: answered after 12ms, talked 3.00s",
		"audio out: 150 frames (3.00s) captured, 148 sent, 2 suppressed (ringing, muted, held), 0 dropped (queue full)",
		"audio in:  147 frames (2.94s) received, 150 played, 0 discarded (ringing, held), 0 malformed",
		"jitter:    1 lost, 0 late, 0 duplicate, 280ms concealed, 2 underruns, target delay 160ms",
	}, formatStats(st))

	st.AnsweredAt, st.Duration, st.CallID = time.Time{}, 0, ""
	assert.Equal(t, []string{"call (no call ID), inbound with 90000: not answered, ended after 3.01s"}, formatStats(st))
}

func TestDescribeStatus(t *testing.T) {
	st := callcore.CallStatus{CallID: "c_9"}.WithState(callcore.CallStateActive)
	assert.Equal(t, "active, call c_9", describeStatus(st, true))
	assert.Equal(t, "active", describeStatus(st, false))
	assert.Equal(t, "active, muted, held by the far end", describeStatus(st.WithMuted(true).WithRemoteOnHold(true), false))
	assert.Equal(t, "idle", describeStatus(callcore.CallStatus{}, false))
}

// TestRunOutputWriteFails checks that a recording lost at the end of the
// call (the SDK only logs it) makes run fail.
func TestRunOutputWriteFails(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	dir := filepath.Join(t.TempDir(), "rec")
	require.NoError(t, os.Mkdir(dir, 0o755))
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	var out servertest.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, s.args(t, "1001", "-out", filepath.Join(dir, "call.wav"), "-duration", "0", "inbound", "90000"), &out)
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "started") }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, os.RemoveAll(dir))
	cancel()
	err := <-done
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-out")
	assert.Contains(t, out.String(), "error      -out")
	assert.Contains(t, out.String(), "stats      call c_")
}
