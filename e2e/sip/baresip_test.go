package sip_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/servertest"
	"github.com/onecxi/phone/server/sipgw"
)

// Tones: what the app's microphone plays and what baresip's plays.
const (
	appTone     = 1000.0
	baresipTone = 600.0
	bobNumber   = "5551234"
	window      = 400 * time.Millisecond
	heard       = 0.5
	notHeard    = 0.05
	waitAudio   = 8 * time.Second
	waitEvent   = 8 * time.Second
)

// gwEnv is the reference server with the SIP gateway as its trunk.
type gwEnv struct {
	srv *server.Server
	url string
	key string
	gw  *sipgw.Gateway
	log *servertest.SyncBuffer
}

// startGateway runs the server whose trunk is a gateway configured by sip
// (the "sip" section of the config), with extra DIDs.
func startGateway(t *testing.T, sip string, dids map[string]string) *gwEnv {
	t.Helper()
	return startGatewayWith(t, sip, dids, nil)
}

// startGatewayWith is startGateway with the server's config changed by edit
// (when not nil) and extra server options.
func startGatewayWith(t *testing.T, sip string, dids map[string]string, edit func(*server.Config), opts ...server.Option) *gwEnv {
	t.Helper()
	cfg, key := server.DemoConfig()
	if edit != nil {
		edit(&cfg)
	}
	cfg.RingTimeout = 10 * time.Second
	for k, v := range dids {
		cfg.Accounts[0].DIDs[k] = v
	}
	raw := json.RawMessage(sip)
	cfg.Trunk = server.TrunkConfig{Type: server.TrunkSIP, SIP: raw}
	sc, err := sipgw.ParseConfig(raw)
	require.NoError(t, err)
	buf := &servertest.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	gw, err := sipgw.New(sc, sipgw.WithLogger(log))
	require.NoError(t, err)
	require.NoError(t, gw.Listen(context.Background()))
	e := &gwEnv{url: "", key: key, gw: gw, log: buf}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	// Registered before the server's cleanup, so it runs after it: the
	// server's shutdown hangs up through the gateway.
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("server log:\n%s", buf.String())
		}
	})
	e.srv, e.url = servertest.StartServer(t, cfg, append([]server.Option{server.WithLogger(log), server.WithTrunk(gw)}, opts...)...)
	go func() {
		defer close(done)
		_ = gw.Serve(ctx, e.srv)
	}()
	return e
}

// trunkTo is a gateway config with one trunk: baresip at port.
func trunkTo(port int, extra string) string {
	return fmt.Sprintf(`{"listen":"127.0.0.1:0","rtpPortMin":31000,"rtpPortMax":31999,"rtpTimeout":"5s",
		"answerTimeout":"6s","responseTimeout":"2s",
		"trunks":[{"name":"baresip","host":"127.0.0.1","port":%d%s}]}`, port, extra)
}

// phone is an SDK instance whose microphone plays a tone.
type phone struct {
	t    *testing.T
	sdk  *callcore.SDK
	plat *platform.Headless
	dev  *audio.ToneDevice
	mu   sync.Mutex
	evts []string
}

func (e *gwEnv) newPhone(t *testing.T, freq float64, opts ...platform.HeadlessOption) *phone {
	t.Helper()
	p := &phone{t: t, plat: platform.NewHeadless(opts...), dev: audio.NewToneDevice(freq, 0.5)}
	add := func(s string) { p.mu.Lock(); p.evts = append(p.evts, s); p.mu.Unlock() }
	p.sdk = callcore.New(
		callcore.WithPlatform(p.plat),
		callcore.WithStore(callcore.NewMemoryStore()),
		callcore.WithLogger(slog.New(slog.DiscardHandler)),
		callcore.WithAudioDevice(func() (audio.Device, error) { return p.dev, nil }),
	)
	p.sdk.SetCallProgressCallback(callcore.CallbackFuncs{
		Started:    func(ct callcore.CallType, did, reg string) { add(fmt.Sprintf("started %s %s %s", ct, did, reg)) },
		Ended:      func(ct callcore.CallType, did string) { add(fmt.Sprintf("ended %s %s", ct, did)) },
		RemoteDTMF: func(d string) { add("remote dtmf " + d) },
		// Call resumption (resume_test.go).
		Reconnecting: func(remote bool) { add("reconnecting " + side(remote)) },
		Reconnected:  func(remote bool) { add("reconnected " + side(remote)) },
		EndReason:    func(_ callcore.CallType, r callcore.EndReason) { add("reason " + string(r)) },
		Error: func(err error, ct callcore.CallType) {
			add("error " + callcore.KindOf(err).String() + ": " + err.Error())
		},
	})
	t.Cleanup(p.sdk.Dispose)
	require.NoError(t, p.sdk.Initialize(testCtx(t), "demo", e.key, e.url))
	return p
}

func testCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// waitFor waits for an SDK callback whose text starts with want.
func (p *phone) waitFor(want string) string {
	p.t.Helper()
	var got string
	require.Eventually(p.t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, e := range p.evts {
			if len(e) >= len(want) && e[:len(want)] == want {
				got = e
				return true
			}
		}
		return false
	}, waitEvent, 10*time.Millisecond, "never got %q; got %v", want, p.snapshot())
	return got
}

// callBob places the usual outbound call (to bobNumber, from 1001) and
// waits until the app reports it started.
func (p *phone) callBob() {
	p.t.Helper()
	require.NoError(p.t, p.sdk.StartOutBoundCall(testCtx(p.t), bobNumber, "1001"))
	p.waitFor("started outbound " + bobNumber + " 1001")
}

func (p *phone) snapshot() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.evts...)
}

func (p *phone) hears(freq float64) {
	p.t.Helper()
	require.Eventually(p.t, func() bool {
		return dsp.ToneShare(p.dev.Last(window), freq) > heard
	}, waitAudio, 20*time.Millisecond, "the app never heard %.0f Hz (share %.2f)", freq, dsp.ToneShare(p.dev.Last(window), freq))
}

func (p *phone) doesNotHear(freq float64) {
	p.t.Helper()
	require.Eventually(p.t, func() bool {
		return dsp.ToneShare(p.dev.Last(window), freq) < notHeard
	}, waitAudio, 20*time.Millisecond, "the app still hears %.0f Hz", freq)
}

// baresipHears waits until what baresip receives is dominated by freq.
func baresipHears(t *testing.T, b *baresip, freq float64) {
	t.Helper()
	require.Eventually(t, func() bool {
		rec := b.received(window)
		return len(rec) >= int(window.Seconds()*8000) && dsp.ToneShare(rec, freq) > heard
	}, waitAudio, 50*time.Millisecond, "baresip never heard %.0f Hz (share %.2f)", freq, dsp.ToneShare(b.received(window), freq))
}

func TestOutboundCallToBaresipTwoWayAudioDTMFAndAppHangsUp(t *testing.T) {
	t.Parallel()
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber})
	e := startGateway(t, trunkTo(b.sipPort, ""), nil)
	a := e.newPhone(t, appTone)

	a.callBob()
	b.waitLog(`Call established`, waitEvent)
	a.hears(baresipTone)
	baresipHears(t, b, appTone)

	for _, d := range []string{"1", "5", "#"} {
		require.NoError(t, a.sdk.SendDTMF(d))
		// baresip 1.0 logs each RFC 4733 event it receives, start and end.
		b.waitLog(`received event: '`+regexpQuote(d)+`' \(end=1\)`, waitEvent)
	}

	require.NoError(t, a.sdk.EndCall(testCtx(t)))
	a.waitFor("ended outbound " + bobNumber)
	b.waitLog(`session closed: Connection reset by peer|terminated \(duration`, waitEvent)
}

func TestOutboundCallBaresipHangsUpEndsTheAppCall(t *testing.T) {
	t.Parallel()
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber})
	e := startGateway(t, trunkTo(b.sipPort, ""), nil)
	a := e.newPhone(t, appTone)
	a.callBob()
	a.hears(baresipTone)
	b.command("hangup", "")
	a.waitFor("ended outbound " + bobNumber)
}

func TestOutboundCallRejectedByBaresipIsAClearError(t *testing.T) {
	t.Parallel()
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber, answerMode: "manual"})
	e := startGateway(t, trunkTo(b.sipPort, ""), nil)
	a := e.newPhone(t, appTone)
	require.NoError(t, a.sdk.StartOutBoundCall(testCtx(t), bobNumber, "1001"))
	b.waitLog(`Incoming call from`, waitEvent)
	b.command("hangup", "")
	got := a.waitFor("error ")
	assert.Contains(t, got, "busy", "baresip rejects with 486 Busy Here")
	a.waitFor("ended outbound " + bobNumber)
}

// failedOutboundCall calls bob expecting a failure and returns its text. The
// SDK reports a failure before ringing from StartOutBoundCall itself, a later
// one through onCallError.
func failedOutboundCall(t *testing.T, a *phone) string {
	t.Helper()
	err := a.sdk.StartOutBoundCall(testCtx(t), bobNumber, "1001")
	if err != nil {
		assert.ErrorIs(t, err, callcore.ErrCallFailed)
		return err.Error()
	}
	got := a.waitFor("error ")
	a.waitFor("ended outbound " + bobNumber)
	return got
}

func TestOutboundCallToASilentTrunkIsUnreachable(t *testing.T) {
	t.Parallel()
	// Nothing listens on this port: the INVITE gets no response at all.
	e := startGateway(t, trunkTo(freePort(t), ""), nil)
	a := e.newPhone(t, appTone)
	start := time.Now()
	got := failedOutboundCall(t, a)
	assert.Contains(t, got, "did not respond")
	assert.Less(t, time.Since(start), 6*time.Second, "responseTimeout (2s) bounds the wait")
}

func TestInboundCallFromBaresipToEchoDID(t *testing.T) {
	t.Parallel()
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber})
	e := startGateway(t, trunkTo(b.sipPort, ""), map[string]string{"5000": server.RouteEcho})
	b.command("dial", fmt.Sprintf("sip:5000@%s", e.gw.Addr()))
	b.waitLog(`Call established`, waitEvent)
	baresipHears(t, b, baresipTone)
	b.command("hangup", "")
	require.Eventually(t, func() bool { return e.srv.Stats().ActiveCalls == 0 }, waitEvent, 20*time.Millisecond)
}

func TestInboundCallFromBaresipRingsAnAppThatAnswers(t *testing.T) {
	t.Parallel()
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber})
	e := startGateway(t, trunkTo(b.sipPort, ""), map[string]string{"5001": server.RouteAppPrefix + "1002"})
	agent := e.newPhone(t, appTone, platform.WithAutoAnswer(func(platform.IncomingCall) platform.Action { return platform.ActionAccept }))
	require.NoError(t, agent.sdk.ListenForIncomingCalls(testCtx(t), "1002"))
	b.command("dial", fmt.Sprintf("sip:5001@%s", e.gw.Addr()))
	agent.waitFor("started inbound")
	b.waitLog(`Call established`, waitEvent)
	agent.hears(baresipTone)
	baresipHears(t, b, appTone)

	// The agent hangs up: baresip gets a BYE.
	require.NoError(t, agent.sdk.EndCall(testCtx(t)))
	agent.waitFor("ended inbound")
	b.waitLog(`session closed: Connection reset by peer|terminated \(duration`, waitEvent)
}

func TestInboundCallToUnknownDIDIsRefused(t *testing.T) {
	t.Parallel()
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber})
	e := startGateway(t, trunkTo(b.sipPort, ""), nil)
	b.command("dial", fmt.Sprintf("sip:7777@%s", e.gw.Addr()))
	b.waitLog(`404 Not Found`, waitEvent)
}

func TestInboundCallFromAnAddressNotAllowedIsForbidden(t *testing.T) {
	t.Parallel()
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber})
	e := startGateway(t, trunkTo(b.sipPort, `,"allow":["192.0.2.0/24"]`), map[string]string{"5000": server.RouteEcho})
	b.command("dial", fmt.Sprintf("sip:5000@%s", e.gw.Addr()))
	b.waitLog(`403 Forbidden`, waitEvent)
	assert.Zero(t, e.srv.Stats().ActiveCalls)
}
