package callcore

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/wire"
)

// ringThenWait answers start with ringing and leaves the rest to the test.
func ringThenWait(fc *fakeCall, m wire.Message) {
	_ = fc.conn.Send(wire.Message{Type: wire.TypeRinging, CallID: fc.id})
}

func TestInboundCallLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := ctxT(t)
	require.NoError(t, e.sdk.StartInBoundCall(ctx, "90050", "9876543210"))
	assert.True(t, e.sdk.IsCallActive())

	fc := e.fs.lastCall(t)
	start := fc.messages(wire.TypeStart)
	require.Len(t, start, 1)
	assert.Equal(t, wire.KindInbound, start[0].Kind)
	assert.Equal(t, "90050", start[0].To)
	assert.Equal(t, "9876543210", start[0].RegisteredNumber)

	flush(e.sdk)
	st := e.sdk.GetCallStatus()
	assert.Equal(t, CallStatus{IsCallOngoing: true, CallType: CallTypeInbound, CurrentDID: "90050",
		RegisteredNumber: "9876543210", State: CallStateActive, CallID: fc.id}, st)
	assert.Equal(t, st, e.rec.lastStatus())
	assert.Equal(t, []string{"status:connecting", "ws:true", "started:inbound:90050:9876543210", "status:active"}, e.rec.lines())
	active, title := e.plat.ForegroundService()
	assert.True(t, active, "the call keeps the process alive")
	assert.NotEmpty(t, title)

	require.NoError(t, e.sdk.EndCall(ctx))
	assert.False(t, e.sdk.IsCallActive(), "EndCall returns after teardown")
	end := fc.messages(wire.TypeEnd)
	require.Len(t, end, 1)
	assert.Equal(t, wire.ReasonHangup, end[0].Reason)
	flush(e.sdk)
	assert.Equal(t, []string{"status:connecting", "ws:true", "started:inbound:90050:9876543210", "status:active",
		"ws:false", "status:idle", "ended:inbound:90050"}, e.rec.lines())
	assert.Equal(t, CallStatus{}, e.sdk.GetCallStatus())
	active, _ = e.plat.ForegroundService()
	assert.False(t, active)

	assert.ErrorIs(t, e.sdk.EndCall(ctx), ErrNoCallInProgress)
	flush(e.sdk)
	assert.Len(t, e.rec.lines(), 7, "onCallEnded fired once")

	stats := e.sdk.CallStats()
	assert.Equal(t, fc.id, stats.CallID)
	assert.False(t, stats.EndedAt.IsZero())

	// A new call may start right away.
	require.NoError(t, e.sdk.StartOutBoundCall(ctx, "1234567890", "9876543210"))
	assert.Equal(t, wire.KindOutbound, e.fs.lastCall(t).messages(wire.TypeStart)[0].Kind)
	require.NoError(t, e.sdk.EndCall(ctx))
}

func TestStartFailsWithServerError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fs.onStart = func(fc *fakeCall, m wire.Message) {
		// The client closes on a failed start (wire.Conn.Close right after
		// Send could drop the queued error).
		_ = fc.conn.Send(wire.Message{Type: wire.TypeError, Code: wire.CodeUnreachable, Message: "1002 has no device online"})
	}
	err := e.sdk.StartAppToAppInboundCall(ctxT(t), "1002", "1001")
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrCallFailed)
	assert.Equal(t, wire.CodeUnreachable, ServerCode(err))
	assert.Contains(t, err.Error(), "1002 has no device online")
	assert.False(t, e.sdk.IsCallActive(), "state is reset when Start returns")
	flush(e.sdk)
	assert.Equal(t, []string{"status:connecting", "ws:true", "ws:false", "status:idle"}, e.rec.lines(),
		"a failed start fires no started/ended/error")

	e.fs.onStart = nil
	require.NoError(t, e.sdk.StartInBoundCall(ctxT(t), "90050", "1001"))
}

func TestAppToAppRingingThenAnswered(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fs.onStart = ringThenWait
	require.NoError(t, e.sdk.StartAppToAppInboundCall(ctxT(t), "1002", "1001"), "Start returns on ringing")
	flush(e.sdk)
	assert.Equal(t, CallStateRinging, e.sdk.GetCallStatus().State)
	assert.True(t, e.sdk.GetCallStatus().IsCallOngoing)
	assert.ErrorIs(t, e.sdk.SendDTMF("1"), ErrNoCallInProgress, "DTMF needs an answered call")
	assert.False(t, e.rec.has("started:app_to_app:1002:1001"))

	fc := e.fs.lastCall(t)
	assert.Equal(t, wire.KindAppToApp, fc.messages(wire.TypeStart)[0].Kind)
	require.NoError(t, fc.conn.Send(wire.Message{Type: wire.TypeAnswered, CallID: fc.id}))
	waitFor(t, func() bool { return e.sdk.GetCallStatus().State == CallStateActive }, "answered")
	flush(e.sdk)
	assert.Equal(t, []string{"status:connecting", "ws:true", "status:ringing", "started:app_to_app:1002:1001", "status:active"},
		e.rec.lines())
	require.NoError(t, e.sdk.SendDTMF("1"))
}

func TestRemoteEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	require.NoError(t, e.sdk.StartInBoundCall(ctxT(t), "90050", "1001"))
	fc := e.fs.lastCall(t)
	require.NoError(t, fc.conn.Send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonRemote}))
	waitFor(t, func() bool { return !e.sdk.IsCallActive() }, "the call to end")
	flush(e.sdk)
	assert.Equal(t, []string{"ws:false", "status:idle", "ended:inbound:90050"}, e.rec.lines()[4:])
	assert.Empty(t, e.rec.errors())
	assert.ErrorIs(t, e.sdk.EndCall(ctxT(t)), ErrNoCallInProgress)
}

func TestDeclined(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fs.onStart = ringThenWait
	require.NoError(t, e.sdk.StartAppToAppInboundCall(ctxT(t), "1002", "1001"))
	fc := e.fs.lastCall(t)
	require.NoError(t, fc.conn.Send(wire.Message{Type: wire.TypeDeclined, CallID: fc.id, Reason: wire.ReasonDeclined}))
	waitFor(t, func() bool { return !e.sdk.IsCallActive() }, "the call to end")
	flush(e.sdk)
	assert.Equal(t, []string{"status:connecting", "ws:true", "status:ringing", "ws:false",
		"declined:app_to_app:1002", "status:idle", "ended:app_to_app:1002"}, e.rec.lines())
}

func TestFailureAfterRinging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fs.onStart = ringThenWait
	require.NoError(t, e.sdk.StartAppToAppInboundCall(ctxT(t), "1002", "1001"))
	fc := e.fs.lastCall(t)
	require.NoError(t, fc.conn.Send(wire.Message{Type: wire.TypeError, Code: wire.CodeNoAnswer, Message: "no answer after 45s"}))
	waitFor(t, func() bool { return !e.sdk.IsCallActive() }, "the call to end")
	flush(e.sdk)
	assert.Equal(t, []string{"ws:false", "error:callFailed:app_to_app", "status:idle", "ended:app_to_app:1002"},
		e.rec.lines()[3:])
	errs := e.rec.errors()
	require.Len(t, errs, 1)
	assert.Equal(t, wire.CodeNoAnswer, ServerCode(errs[0]))
}

func TestConnectionLost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	require.NoError(t, e.sdk.StartInBoundCall(ctxT(t), "90050", "1001"))
	e.fs.lastCall(t).conn.Close(wire.CloseInternal, "crash")
	waitFor(t, func() bool { return !e.sdk.IsCallActive() }, "the call to end")
	flush(e.sdk)
	assert.Equal(t, []string{"ws:false", "error:webSocketConnectionFailed:inbound", "status:idle", "ended:inbound:90050"},
		e.rec.lines()[4:])
}

func TestEndCallWhileRinging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fs.onStart = ringThenWait
	require.NoError(t, e.sdk.StartAppToAppInboundCall(ctxT(t), "1002", "1001"))
	require.NoError(t, e.sdk.EndCall(ctxT(t)))
	fc := e.fs.lastCall(t)
	end := fc.messages(wire.TypeEnd)
	require.Len(t, end, 1)
	assert.Equal(t, wire.ReasonCancelled, end[0].Reason)
	flush(e.sdk)
	assert.True(t, e.rec.has("ended:app_to_app:1002"))
}

func TestStartGivesUpWithContext(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fs.onStart = func(*fakeCall, wire.Message) {} // never replies
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := e.sdk.StartInBoundCall(ctx, "90050", "1001")
	assert.ErrorIs(t, err, ErrCallFailed)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, e.sdk.IsCallActive())
	fc := e.fs.lastCall(t)
	waitFor(t, fc.closed, "the abandoned call's socket to close")
	flush(e.sdk)
	assert.False(t, e.rec.has("ended:inbound:90050"))
}

func TestEndCallWhileConnecting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fs.onStart = func(*fakeCall, wire.Message) {} // never replies
	errc := make(chan error, 1)
	go func() { errc <- e.sdk.StartInBoundCall(ctxT(t), "90050", "1001") }()
	waitFor(t, func() bool { return e.fs.callCount() == 1 && len(e.fs.lastCall(t).messages(wire.TypeStart)) == 1 }, "start")
	require.NoError(t, e.sdk.EndCall(ctxT(t)))
	err := <-errc
	assert.ErrorIs(t, err, ErrCallFailed)
	assert.Contains(t, err.Error(), "ended before it connected")
	assert.False(t, e.sdk.IsCallActive())
}

func TestAudioDeviceFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, WithAudioDevice(func() (audio.Device, error) {
		return nil, errors.New("no microphone: " + audio.ErrNoDevice.Error())
	}))
	err := e.sdk.StartInBoundCall(ctxT(t), "90050", "1001")
	assert.ErrorIs(t, err, ErrAudioSessionSetupFailed)
	assert.Zero(t, e.fs.callCount(), "the call is not placed")
	assert.False(t, e.sdk.IsCallActive())

	e2 := newEnv(t, WithAudioDevice(func() (audio.Device, error) { return failingDevice{}, nil }))
	err = e2.sdk.StartInBoundCall(ctxT(t), "90050", "1001")
	assert.ErrorIs(t, err, ErrAudioSessionSetupFailed)
	assert.ErrorIs(t, err, audio.ErrNoDevice)
	assert.Zero(t, e2.fs.callCount())
}

type failingDevice struct{}

func (failingDevice) Start(context.Context, audio.Stream) error { return audio.ErrNoDevice }
func (failingDevice) Stop() error                               { return nil }
func (failingDevice) Name() string                              { return "broken" }

func TestDialFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// The server goes away after Initialize.
	e.fs.srv.Close()
	err := e.sdk.StartInBoundCall(ctxT(t), "90050", "1001")
	assert.ErrorIs(t, err, ErrWebSocketConnectionFailed)
	assert.False(t, e.sdk.IsCallActive())

	// Credentials revoked after Initialize: the upgrade is refused with 401.
	revoked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == wire.PathAuthCheck {
			_, _ = w.Write([]byte(`{"account":"acme","protocol":1,"server":"x"}`))
			return
		}
		writeHTTPError(w, http.StatusUnauthorized, wire.CodeUnauthorized, "key revoked")
	}))
	t.Cleanup(revoked.Close)
	s, _ := newSDK(t)
	require.NoError(t, s.Initialize(ctxT(t), testAccount, testAPIKey, revoked.URL))
	err = s.StartInBoundCall(ctxT(t), "90050", "1001")
	assert.ErrorIs(t, err, ErrInitializationFailed)
	assert.Equal(t, wire.CodeUnauthorized, ServerCode(err))
}

func TestMuteStopsAudioBeforeTheAck(t *testing.T) {
	t.Parallel()
	e := newEnv(t, WithAudioDevice(func() (audio.Device, error) { return audio.NewToneDevice(440, 0.3), nil }))
	release := make(chan struct{})
	e.fs.onControl = func(fc *fakeCall, m wire.Message) {
		if m.Type == wire.TypeMute && *m.On {
			go func() { <-release; fc.ack(m) }() // hold the ack back
			return
		}
		fc.ack(m)
	}
	require.NoError(t, e.sdk.StartInBoundCall(ctxT(t), "90050", "1001"))
	fc := e.fs.lastCall(t)
	waitFor(t, func() bool { return fc.frameCount() > 5 }, "audio to flow")
	first := fc.framesSnapshot()[0]
	assert.Equal(t, byte(wire.FlagMarker), first.Flags, "the first frame carries the marker")

	suppressed := e.sdk.CallStats().FramesSuppressed
	muteErr := make(chan error, 1)
	go func() { muteErr <- e.sdk.MuteCall(ctxT(t), true) }()
	waitFor(t, func() bool { return len(fc.messages(wire.TypeMute)) == 1 }, "the mute request")
	n := waitSendingStopped(t, e.sdk, fc, suppressed) // frames already queued drain
	assertNothingSent(t, e.sdk, fc, n, "no audio leaves the client while the ack is pending")
	close(release)
	require.NoError(t, <-muteErr)
	flush(e.sdk)
	assert.True(t, e.sdk.IsMuted())
	assert.True(t, e.rec.lastStatus().IsMuted)

	// Muting again is fine (explicit values, not a toggle).
	require.NoError(t, e.sdk.MuteCall(ctxT(t), true))

	require.NoError(t, e.sdk.MuteCall(ctxT(t), false))
	assert.False(t, e.sdk.IsMuted())
	waitFor(t, func() bool { return fc.frameCount() > n+3 }, "audio to resume")
	frames := fc.framesSnapshot()
	assert.Equal(t, byte(wire.FlagMarker), frames[n].Flags, "unmute starts a talk spurt")
	assert.Greater(t, wire.SeqDiff(frames[n].Timestamp, frames[n-1].Timestamp), int32(wire.FrameSamples),
		"the timestamp shows the muted gap")
	assert.Equal(t, int32(1), wire.SeqDiff(frames[n].Seq, frames[n-1].Seq), "no sequence gap: nothing was lost")
}

func TestHoldAndSpeaker(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	require.NoError(t, e.sdk.StartInBoundCall(ctxT(t), "90050", "1001"))
	fc := e.fs.lastCall(t)
	waitFor(t, func() bool { return fc.frameCount() > 2 }, "audio to flow")

	suppressed := e.sdk.CallStats().FramesSuppressed
	require.NoError(t, e.sdk.HoldCall(ctxT(t), true))
	assert.True(t, e.sdk.IsOnHold())
	hold := fc.messages(wire.TypeHold)
	require.Len(t, hold, 1)
	assert.True(t, *hold[0].On)
	assert.NotZero(t, hold[0].Ref)
	n := waitSendingStopped(t, e.sdk, fc, suppressed)
	assertNothingSent(t, e.sdk, fc, n, "nothing is sent on hold")
	require.NoError(t, e.sdk.HoldCall(ctxT(t), false))
	assert.False(t, e.sdk.IsOnHold())
	waitFor(t, func() bool { return fc.frameCount() > n }, "audio to resume")

	require.NoError(t, e.sdk.SetSpeaker(ctxT(t), true))
	assert.True(t, e.sdk.IsSpeakerOn())
	assert.Equal(t, platform.RouteSpeaker, e.plat.Route())
	require.NoError(t, e.sdk.SetSpeaker(ctxT(t), true), "same state again is fine")

	// The far end holds us.
	require.NoError(t, fc.conn.Send(wire.Message{Type: wire.TypeHold, On: wire.Bool(true), Remote: true}))
	waitFor(t, func() bool { return e.sdk.GetCallStatus().IsRemoteOnHold }, "remote hold")

	flush(e.sdk)
	var statuses []CallStatus
	e.rec.mu.Lock()
	statuses = append(statuses, e.rec.status...)
	e.rec.mu.Unlock()
	require.GreaterOrEqual(t, len(statuses), 7)
	assert.True(t, statuses[2].IsOnHold, "hold → status")
	assert.False(t, statuses[3].IsOnHold, "resume → status")
	assert.True(t, statuses[4].IsSpeakerOn, "speaker → status")
	assert.True(t, statuses[5].IsSpeakerOn, "repeated speaker → status again")

	require.NoError(t, e.sdk.EndCall(ctxT(t)))
	assert.Equal(t, platform.RouteEarpiece, e.plat.Route(), "the route resets after the call")
	assert.False(t, e.sdk.IsSpeakerOn())
}

func TestControlFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fs.onControl = func(fc *fakeCall, m wire.Message) {
		switch m.Type {
		case wire.TypeMute, wire.TypeHold, wire.TypeDTMF:
			_ = fc.conn.Send(wire.Message{Type: wire.TypeError, Ref: m.Ref, Code: wire.CodeControlRejected, Message: "not now"})
		}
		// status: never answered
	}
	require.NoError(t, e.sdk.StartInBoundCall(ctxT(t), "90050", "1001"))

	err := e.sdk.MuteCall(ctxT(t), true)
	assert.ErrorIs(t, err, ErrMuteControlFailed)
	assert.Equal(t, wire.CodeControlRejected, ServerCode(err))
	assert.True(t, e.sdk.IsMuted(), "a failed mute still keeps the microphone muted")
	err = e.sdk.MuteCall(ctxT(t), false)
	assert.ErrorIs(t, err, ErrMuteControlFailed)
	assert.True(t, e.sdk.IsMuted(), "a failed unmute leaves it muted")

	err = e.sdk.HoldCall(ctxT(t), true)
	assert.ErrorIs(t, err, ErrHoldControlFailed)
	assert.False(t, e.sdk.IsOnHold(), "a failed hold is undone")

	require.NoError(t, e.sdk.SendDTMF("7"), "SendDTMF does not wait for the ack")
	waitFor(t, func() bool { return len(e.rec.errors()) == 1 }, "the DTMF failure callback")
	assert.Equal(t, ErrUnknown, KindOf(e.rec.errors()[0]))
	assert.Equal(t, wire.CodeControlRejected, ServerCode(e.rec.errors()[0]))

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = e.sdk.RefreshCallStatus(ctx)
	assert.Error(t, err, "no status reply")

	sp := newEnv(t, WithPlatform(brokenRoute{platform.NewHeadless()}))
	require.NoError(t, sp.sdk.StartInBoundCall(ctxT(t), "90050", "1001"))
	assert.ErrorIs(t, sp.sdk.SetSpeaker(ctxT(t), true), ErrSpeakerControlFailed)
	assert.False(t, sp.sdk.IsSpeakerOn())
}

func TestControlTimesOutWithContext(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fs.onControl = func(*fakeCall, wire.Message) {} // never acks
	require.NoError(t, e.sdk.StartInBoundCall(ctxT(t), "90050", "1001"))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := e.sdk.HoldCall(ctx, true)
	assert.ErrorIs(t, err, ErrHoldControlFailed)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

type brokenRoute struct{ *platform.Headless }

func (brokenRoute) SetAudioRoute(context.Context, platform.Route) error {
	return errors.New("no loudspeaker")
}

func TestDTMFIsSent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	require.NoError(t, e.sdk.StartInBoundCall(ctxT(t), "90050", "1001"))
	fc := e.fs.lastCall(t)
	for _, d := range []string{"1", "#", "*"} {
		require.NoError(t, e.sdk.SendDTMF(d))
	}
	waitFor(t, func() bool { return len(fc.messages(wire.TypeDTMF)) == 3 }, "three digits")
	got := fc.messages(wire.TypeDTMF)
	assert.Equal(t, []string{"1", "#", "*"}, []string{got[0].Digit, got[1].Digit, got[2].Digit})
	assert.NotEqual(t, got[0].Ref, got[1].Ref, "each request has its own ref")
	// Every acknowledgement has been awaited (a missing one would be an
	// error too) and its outcome queued as a callback, then delivered.
	waitBackground(t, e.sdk)
	flush(e.sdk)
	assert.Empty(t, e.rec.errors())
}

func TestRefreshCallStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	require.NoError(t, e.sdk.StartInBoundCall(ctxT(t), "90050", "1001"))
	fc := e.fs.lastCall(t)
	fc.mu.Lock()
	fc.muted, fc.held = true, true // the server's view differs, e.g. after a UI restart
	fc.mu.Unlock()
	require.NoError(t, e.sdk.RefreshCallStatus(ctxT(t)))
	st := e.sdk.GetCallStatus()
	assert.True(t, st.IsMuted)
	assert.True(t, st.IsOnHold)
	flush(e.sdk)
	assert.Equal(t, st, e.rec.lastStatus())

	e.fs.onControl = func(fc *fakeCall, m wire.Message) {
		_ = fc.conn.Send(wire.Message{Type: wire.TypeStatus, Ref: m.Ref, CallID: fc.id, State: "ended"})
	}
	require.NoError(t, e.sdk.RefreshCallStatus(ctxT(t)))
	assert.False(t, e.sdk.IsCallActive(), "an ended call is torn down")
	flush(e.sdk)
	assert.True(t, e.rec.has("ended:inbound:90050"))
}

func TestEchoedToneComesBack(t *testing.T) {
	dev := audio.NewToneDevice(440, 0.5)
	e := newEnv(t, WithAudioDevice(func() (audio.Device, error) { return dev, nil }))
	require.NoError(t, e.sdk.StartInBoundCall(ctxT(t), "90000", "1001"))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		rec := dev.Last(500 * time.Millisecond)
		if !assert.GreaterOrEqual(c, len(rec), audio.SampleRate/2, "500 ms played") {
			return
		}
		assert.Greater(c, dsp.ToneShare(rec, 440), 0.5, "the echoed 440 Hz tone is played back")
		stats := e.sdk.CallStats()
		assert.Greater(c, stats.FramesSent, uint64(20))
		assert.Greater(c, stats.FramesReceived, uint64(20))
		assert.Greater(c, stats.Jitter.Received, uint64(20))
		assert.Equal(c, CallStateActive, stats.State)
	}, 5*time.Second, 20*time.Millisecond)
	require.NoError(t, e.sdk.EndCall(ctxT(t)))
	assert.Equal(t, CallStateIdle, e.sdk.CallStats().State, "the last call's stats stay readable")
}

func TestDTMFFeedbackIsPlayedLocally(t *testing.T) {
	dev := audio.NewToneDevice(0, 0) // silent microphone
	e := newEnv(t, WithAudioDevice(func() (audio.Device, error) { return dev, nil }))
	e.fs.echo = false
	require.NoError(t, e.sdk.StartInBoundCall(ctxT(t), "90050", "1001"))
	waitFor(t, func() bool { _, played := dev.Frames(); return played >= 5 }, "the speaker to play")
	require.NoError(t, e.sdk.SendDTMF("5"))
	low, high, _ := dsp.DTMFFreqs('5')
	share := func() float64 {
		rec := dev.Last(200 * time.Millisecond)
		return dsp.ToneShare(rec, low) + dsp.ToneShare(rec, high)
	}
	assert.Eventually(t, func() bool { return share() > 0.3 }, 5*time.Second, 10*time.Millisecond,
		"the digit's tone is heard (share %.2f)", share())
}

func TestRingbackWhileRinging(t *testing.T) {
	dev := audio.NewToneDevice(0, 0)
	e := newEnv(t, WithAudioDevice(func() (audio.Device, error) { return dev, nil }))
	e.fs.onStart = ringThenWait
	require.NoError(t, e.sdk.StartAppToAppInboundCall(ctxT(t), "1002", "1001"))
	share := func() float64 {
		rec := dev.Last(300 * time.Millisecond)
		if len(rec) < 300*audio.SampleRate/1000 {
			return 0
		}
		return dsp.ToneShare(rec, 440) + dsp.ToneShare(rec, 480)
	}
	require.Eventually(t, func() bool { return share() > 0.5 }, 5*time.Second, 10*time.Millisecond,
		"the caller hears ringback (share %.2f)", share())
	// The microphone ran all along (300 ms and more): nothing it captured
	// was queued, so nothing can still be on its way.
	st := e.sdk.CallStats()
	assert.NotZero(t, st.FramesCaptured)
	assert.Zero(t, st.FramesSent, "nothing is sent before the answer")
	assert.Zero(t, e.fs.lastCall(t).frameCount(), "nothing is sent before the answer")
}

// waitSendingStopped waits until the microphone has stopped sending after a
// mute or hold and every frame it queued before has reached the fake server,
// and returns how many frames that is. suppressedBefore is FramesSuppressed
// from before the mute or hold: a frame suppressed since proves the capture
// path has seen the flag, and as the device captures one frame at a time, no
// send is still under way. It gives up well before a control request's
// wire.ReplyTimeout, so that a mute or hold that only takes effect with the
// ack fails here.
func waitSendingStopped(t *testing.T, s *SDK, fc *fakeCall, suppressedBefore uint64) int {
	t.Helper()
	var n int
	require.Eventually(t, func() bool {
		st := s.CallStats()
		n = fc.frameCount()
		return st.FramesSuppressed > suppressedBefore && uint64(n) == st.FramesSent
	}, wire.ReplyTimeout/2, 5*time.Millisecond, "the microphone never stopped sending")
	return n
}

// assertNothingSent waits until the microphone has captured ten more frames
// (200 ms), all suppressed, and checks that none was sent: the fake server
// still has n frames.
func assertNothingSent(t *testing.T, s *SDK, fc *fakeCall, n int, msg string) {
	t.Helper()
	st := s.CallStats()
	waitFor(t, func() bool { return s.CallStats().FramesSuppressed >= st.FramesSuppressed+10 }, "ten more frames captured")
	assert.Equal(t, st.FramesSent, s.CallStats().FramesSent, msg)
	assert.Equal(t, n, fc.frameCount(), msg)
}

// waitBackground waits for the SDK's background goroutines, such as those
// awaiting DTMF acknowledgements (each gives up after wire.ReplyTimeout).
// Nothing may start new ones meanwhile.
func waitBackground(t *testing.T, s *SDK) {
	t.Helper()
	done := make(chan struct{})
	go func() { s.bg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * wire.ReplyTimeout):
		t.Fatal("the SDK's background goroutines did not finish")
	}
}

// Controls racing a remote hang-up must neither race (-race) nor hang.
func TestConcurrentControlsAndRemoteEnd(t *testing.T) {
	t.Parallel()
	for range 5 {
		e := newEnv(t)
		require.NoError(t, e.sdk.StartInBoundCall(ctxT(t), "90050", "1001"))
		fc := e.fs.lastCall(t)
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx := ctxT(t)
				for j := range 10 {
					on := (i+j)%2 == 0
					_ = e.sdk.MuteCall(ctx, on)
					_ = e.sdk.HoldCall(ctx, on)
					_ = e.sdk.SetSpeaker(ctx, on)
					_ = e.sdk.SendDTMF("1")
					_ = e.sdk.RefreshCallStatus(ctx)
					_ = e.sdk.GetCallStatus()
					_ = e.sdk.CallStats()
				}
			}()
		}
		time.Sleep(10 * time.Millisecond) // let the controls get going, so the hang-up lands among them
		_ = fc.conn.Send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonRemote})
		wg.Wait()
		waitFor(t, func() bool { return !e.sdk.IsCallActive() }, "the call to end")
		flush(e.sdk)
		n := 0
		for _, l := range e.rec.lines() {
			if l == "ended:inbound:90050" {
				n++
			}
		}
		assert.Equal(t, 1, n, "onCallEnded exactly once")
		assert.Equal(t, CallStatus{}, e.sdk.GetCallStatus())
	}
}
