package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/servertest"
	"github.com/onecxi/phone/server/trunk"
)

// Audio assertions look at the last window of what a phone played.
const (
	window    = 400 * time.Millisecond
	heard     = 0.5  // ToneShare above this: the tone dominates
	notHeard  = 0.05 // below this: the tone is absent
	waitAudio = 5 * time.Second
	waitEvent = 5 * time.Second
)

// testLogger discards logs, unless E2E_LOG is set (debugging a test: then
// everything at debug level goes to stderr, tagged with who).
func testLogger(who string) *slog.Logger {
	if os.Getenv("E2E_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("who", who)
}

// env is one running reference server.
type env struct {
	srv    *server.Server
	url    string
	key    string
	trunk  *trunk.Simulated
	mu     sync.Mutex
	events []server.Event
}

type envOption func(*server.Config)

func startServer(t testing.TB, opts ...envOption) *env {
	t.Helper()
	return startServerWith(t, nil, opts...)
}

// startServerWith is startServer with extra server options.
func startServerWith(t testing.TB, extra []server.Option, opts ...envOption) *env {
	t.Helper()
	cfg, key := server.DemoConfig()
	cfg.Trunk.AnswerDelay = 100 * time.Millisecond
	cfg.Trunk.Mode = "tone:1004"
	cfg.RingTimeout = 10 * time.Second
	for _, o := range opts {
		o(&cfg)
	}
	log := testLogger("server")
	sim, err := trunk.NewSimulated(cfg.Trunk.Simulated(), log)
	require.NoError(t, err)
	e := &env{key: key, trunk: sim}
	e.srv, e.url = servertest.StartServer(t, cfg, append([]server.Option{server.WithLogger(log), server.WithTrunk(sim),
		server.WithEventHook(func(ev server.Event) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
		})}, extra...)...)
	return e
}

// serverEvent waits for a server event matching ok.
func (e *env) serverEvent(t testing.TB, ok func(server.Event) bool) server.Event {
	t.Helper()
	var found server.Event
	require.Eventually(t, func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, ev := range e.events {
			if ok(ev) {
				found = ev
				return true
			}
		}
		return false
	}, waitEvent, 10*time.Millisecond, "server event never happened")
	return found
}

// phone is one SDK instance with a tone generator as microphone and a
// recorder as speaker.
type phone struct {
	t      testing.TB
	sdk    *callcore.SDK
	dev    *audio.ToneDevice
	plat   *platform.Headless
	number string
	log    *eventLog
}

type phoneOption func(*[]platform.HeadlessOption)

// answering makes the phone's "user" accept every incoming call.
func answering(a platform.Action) phoneOption {
	return func(o *[]platform.HeadlessOption) {
		*o = append(*o, platform.WithAutoAnswer(func(platform.IncomingCall) platform.Action { return a }))
	}
}

// newPhone returns a signed-in phone whose microphone plays freq Hz.
func (e *env) newPhone(t testing.TB, number string, freq float64, opts ...phoneOption) *phone {
	t.Helper()
	var hopts []platform.HeadlessOption
	for _, o := range opts {
		o(&hopts)
	}
	p := &phone{t: t, dev: audio.NewToneDevice(freq, 0.5), plat: platform.NewHeadless(hopts...), number: number, log: &eventLog{}}
	p.sdk = callcore.New(
		callcore.WithPlatform(p.plat),
		callcore.WithStore(callcore.NewMemoryStore()),
		callcore.WithLogger(testLogger("phone "+number)),
		callcore.WithAudioDevice(func() (audio.Device, error) { return p.dev, nil }),
	)
	p.sdk.SetCallProgressCallback(p.log.callbacks())
	t.Cleanup(p.sdk.Dispose)
	require.NoError(t, p.sdk.Initialize(ctx(t), "demo", e.key, e.url))
	return p
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// hears waits until the phone's speaker is dominated by freq.
func (p *phone) hears(freq float64) {
	p.t.Helper()
	require.Eventually(p.t, func() bool {
		return dsp.ToneShare(p.dev.Last(window), freq) > heard
	}, waitAudio, 20*time.Millisecond, "%s never heard %.0f Hz (last share %.2f)", p.number, freq,
		dsp.ToneShare(p.dev.Last(window), freq))
}

// doesNotHear waits until freq has gone from the phone's speaker.
func (p *phone) doesNotHear(freq float64) {
	p.t.Helper()
	require.Eventually(p.t, func() bool {
		return dsp.ToneShare(p.dev.Last(window), freq) < notHeard
	}, waitAudio, 20*time.Millisecond, "%s still hears %.0f Hz", p.number, freq)
}

// eventLog records callbacks in order.
type eventLog struct {
	mu     sync.Mutex
	events []string
	status []callcore.CallStatus
	errs   []error
}

func (l *eventLog) add(s string) { l.mu.Lock(); l.events = append(l.events, s); l.mu.Unlock() }

func (l *eventLog) callbacks() callcore.CallbackFuncs {
	return callcore.CallbackFuncs{
		StatusChanged: func(s callcore.CallStatus) {
			l.mu.Lock()
			l.status = append(l.status, s)
			l.mu.Unlock()
		},
		Started:      func(ct callcore.CallType, did, reg string) { l.add(fmt.Sprintf("started %s %s %s", ct, did, reg)) },
		Ended:        func(ct callcore.CallType, did string) { l.add(fmt.Sprintf("ended %s %s", ct, did)) },
		Declined:     func(ct callcore.CallType, from string) { l.add(fmt.Sprintf("declined %s %s", ct, from)) },
		WebSocket:    func(up bool) { l.add(fmt.Sprintf("websocket %v", up)) },
		RemoteDTMF:   func(d string) { l.add("remote dtmf " + d) },
		Reconnecting: func(remote bool) { l.add("reconnecting " + side(remote)) },
		Reconnected:  func(remote bool) { l.add("reconnected " + side(remote)) },
		EndReason:    func(_ callcore.CallType, r callcore.EndReason) { l.add("reason " + string(r)) },
		QualityWarning: func(w callcore.QualityWarning, raised bool) {
			if raised {
				l.add("warning " + string(w))
			} else {
				l.add("cleared " + string(w))
			}
		},
		Error: func(err error, ct callcore.CallType) {
			l.mu.Lock()
			l.errs = append(l.errs, err)
			l.mu.Unlock()
			l.add("error " + callcore.KindOf(err).String())
		},
	}
}

// side names whose connection a reconnect event is about.
func side(remote bool) string {
	if remote {
		return "remote"
	}
	return "local"
}

// waitFor waits until an event equal to want has been recorded.
func (p *phone) waitFor(want string) {
	p.t.Helper()
	p.waitForWithin(want, waitEvent)
}

// waitForWithin is waitFor with its own bound; a failure also shows the
// call's last quality sample.
func (p *phone) waitForWithin(want string, wait time.Duration) {
	p.t.Helper()
	require.Eventually(p.t, func() bool {
		p.log.mu.Lock()
		defer p.log.mu.Unlock()
		for _, e := range p.log.events {
			if e == want {
				return true
			}
		}
		return false
	}, wait, 10*time.Millisecond, "%s never got %q; got %v; last quality %s", p.number, want, p.snapshot(),
		describe(p.sdk.CallQuality()))
}

func (p *phone) snapshot() []string {
	p.log.mu.Lock()
	defer p.log.mu.Unlock()
	return append([]string(nil), p.log.events...)
}

// lastStatus is the last status delivered by onCallStatusChanged.
func (p *phone) lastStatus() callcore.CallStatus {
	p.log.mu.Lock()
	defer p.log.mu.Unlock()
	if len(p.log.status) == 0 {
		return callcore.CallStatus{}
	}
	return p.log.status[len(p.log.status)-1]
}
