package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/wire"
)

// deployment is a reference server the way a deployment runs it: served
// until its context ends (what onecxi-server does on SIGTERM: drain, then
// shut down), and started again on the same address.
type deployment struct {
	t       *testing.T
	cfg     server.Config
	addr    string
	srv     *server.Server
	sigterm context.CancelFunc
	served  chan error
}

func newDeployment(t *testing.T, opts ...envOption) (*deployment, *env) {
	t.Helper()
	cfg, key := server.DemoConfig()
	cfg.RingTimeout = 10 * time.Second
	for _, o := range opts {
		o(&cfg)
	}
	d := &deployment{t: t, cfg: cfg, addr: "127.0.0.1:0"}
	d.start()
	return d, &env{key: key, url: "http://" + d.addr}
}

func (d *deployment) start() {
	d.t.Helper()
	srv, err := server.New(d.cfg, server.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(d.t, err)
	ln, err := net.Listen("tcp", d.addr)
	require.NoError(d.t, err)
	d.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	d.srv, d.sigterm, d.served = srv, cancel, make(chan error, 1)
	served := d.served
	go func() { served <- srv.Serve(ctx, ln) }()
	d.t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
		cancel()
		<-served
	})
}

// stopped waits for Serve to return.
func (d *deployment) stopped() {
	d.t.Helper()
	select {
	case err := <-d.served:
		require.NoError(d.t, err)
		d.served <- err
	case <-time.After(waitEvent):
		d.t.Fatalf("the server still serves %v after its drain", waitEvent)
	}
}

func (d *deployment) serving() bool {
	select {
	case err := <-d.served:
		d.served <- err
		return false
	default:
		return true
	}
}

// watchDrain adds the SDK's extensions for draining and listening to p's
// event log.
func (p *phone) watchDrain() {
	cb := p.log.callbacks()
	cb.ServerDraining = func(left time.Duration) { p.log.add("draining") }
	cb.Listening = func(up bool) { p.log.add(fmt.Sprintf("listening %v", up)) }
	p.sdk.SetCallProgressCallback(cb)
}

// after returns the events recorded after the first one equal to first.
func (p *phone) after(first string) []string {
	ev := p.snapshot()
	for i, e := range ev {
		if e == first {
			return ev[i+1:]
		}
	}
	return nil
}

// TestServerRestartedWithDrainKeepsALiveCallUntilItEnds is issue 13's
// acceptance test, end to end: an app-to-app call between two SDKs goes on
// through the server's drain (audio both ways, hold), the server refuses a
// new call meanwhile, stops once the call ends, and the callee's listener
// is back on the restarted server promptly.
func TestServerRestartedWithDrainKeepsALiveCallUntilItEnds(t *testing.T) {
	t.Parallel()
	d, e := newDeployment(t)
	a, b := appCall(t, e)
	a.watchDrain()
	b.watchDrain()
	a.hears(toneB)
	b.hears(toneA)

	d.sigterm()
	a.waitFor("draining")
	require.Eventually(t, func() bool {
		n := 0
		for _, ev := range b.snapshot() {
			if ev == "draining" {
				n++
			}
		}
		return n == 2
	}, waitEvent, 10*time.Millisecond, "B is told on its call and on its events connection")
	resp, err := http.Get(e.url + wire.PathReady)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)

	// A new call is refused; the live one goes on, controls included.
	c := e.newPhone(t, "1003", toneA)
	err = c.sdk.StartInBoundCall(ctx(t), "90000", "1003")
	require.Error(t, err)
	assert.Equal(t, wire.CodeShuttingDown, callcore.ServerCode(err))
	require.NoError(t, a.sdk.HoldCall(ctx(t), true))
	b.doesNotHear(toneA)
	require.NoError(t, a.sdk.HoldCall(ctx(t), false))
	b.hears(toneA)
	a.hears(toneB)
	assert.True(t, d.serving(), "the server waits for the call")
	assert.True(t, a.sdk.IsCallActive())
	assert.NotContains(t, b.after("draining"), "listening false", "B's events connection stays up during the drain")

	// The call ends: the server finishes its drain and stops.
	require.NoError(t, a.sdk.EndCall(ctx(t)))
	a.waitFor("ended app_to_app 1002")
	b.waitFor("ended app_to_app 1001")
	d.stopped()
	stopped := time.Now()
	b.waitFor("listening false")

	// Restarted on the same address, it has B back without B doing a thing.
	d.start()
	require.Eventually(t, func() bool {
		for _, ev := range b.after("listening false") {
			if ev == "listening true" {
				return true
			}
		}
		return false
	}, waitEvent, 10*time.Millisecond, "B listening again")
	t.Logf("B listening again %v after the old server stopped", time.Since(stopped).Round(time.Millisecond))
	require.NoError(t, a.sdk.StartAppToAppInboundCall(ctx(t), "1002", "1001"))
	require.Eventually(t, func() bool {
		n := 0
		for _, ev := range b.snapshot() {
			if ev == "started app_to_app 1001 1002" {
				n++
			}
		}
		return n == 2
	}, waitEvent, 10*time.Millisecond, "B answers a call through the restarted server")
	b.hears(toneA)
}

// TestDrainTimeoutEndsTheSDKsCall: a call still up when the drain times out
// ends like any call the server ends, with the shutdown reason.
func TestDrainTimeoutEndsTheSDKsCall(t *testing.T) {
	t.Parallel()
	d, e := newDeployment(t, func(c *server.Config) { c.DrainTimeout = 300 * time.Millisecond })
	a := e.newPhone(t, "1001", toneA)
	a.watchDrain()
	require.NoError(t, a.sdk.StartInBoundCall(ctx(t), "90000", "1001"))
	a.waitFor("started inbound 90000 1001")
	a.hears(toneA)
	d.sigterm()
	a.waitFor("draining")
	a.waitFor("ended inbound 90000")
	d.stopped()
	assert.False(t, a.sdk.IsCallActive())
}
