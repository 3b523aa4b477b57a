package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/wire"
)

func TestTokenBucket(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name    string
		limits  Limits
		at      []time.Duration // offsets of takes from t0
		allowed int
	}{
		{"burst at once", Limits{ControlPerSecond: 20, ControlBurst: 40}, repeat(0, 100), 40},
		{"off", Limits{ControlPerSecond: NoLimit, ControlBurst: 40}, repeat(0, 1000), 1000},
		{"sustained at the rate", Limits{ControlPerSecond: 20, ControlBurst: 40}, every(50*time.Millisecond, 200), 200},
		{"sustained twice the rate", Limits{ControlPerSecond: 20, ControlBurst: 40}, every(25*time.Millisecond, 200),
			40 + 100 - 1}, // the burst, then one token every other message over 199 intervals of 25 ms
		{"refilled after a pause", Limits{ControlPerSecond: 20, ControlBurst: 40},
			append(repeat(0, 40), repeat(time.Second, 40)...), 40 + 20},
		{"refill capped at the burst", Limits{ControlPerSecond: 20, ControlBurst: 40},
			append(repeat(0, 40), repeat(time.Hour, 100)...), 80},
		{"clock going back refills nothing", Limits{ControlPerSecond: 20, ControlBurst: 2},
			[]time.Duration{time.Second, time.Second, 0, 0}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newTokenBucket(tt.limits)
			n := 0
			for _, d := range tt.at {
				if b.take(t0.Add(d)) {
					n++
				}
			}
			assert.Equal(t, tt.allowed, n)
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func every(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i) * d
	}
	return out
}

// The check runs per control message on the connection's reader goroutine.
func TestTokenBucketAllocatesNothing(t *testing.T) {
	b := newTokenBucket(Limits{ControlPerSecond: 20, ControlBurst: 40})
	allocs := testing.AllocsPerRun(1000, func() { b.take(time.Now()) })
	assert.Zero(t, allocs)
}

func BenchmarkTokenBucket(b *testing.B) {
	tb := newTokenBucket(Limits{ControlPerSecond: 1e9, ControlBurst: 1e9})
	b.ReportAllocs()
	for b.Loop() {
		tb.take(time.Now())
	}
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func testGuard(lim Limits) (*authGuard, *fakeClock) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	return newAuthGuard(Limits{AuthFailures: lim.AuthFailures, AuthWindow: lim.AuthWindow, AuthBackoff: lim.AuthBackoff,
		AuthBackoffMax: lim.AuthBackoffMax}.withDefaults(), clk.now), clk
}

var discard = slog.New(slog.DiscardHandler)

func TestAuthGuardBackoffGrowsToItsCapAndExpires(t *testing.T) {
	g, clk := testGuard(Limits{})
	fail := func() { g.failed(discard, "192.0.2.1", "acme", "k", "192.0.2.1:1", "/") }

	// Four failures within the window: no back-off yet.
	for range DefaultAuthFailures - 1 {
		fail()
		clk.advance(time.Second)
	}
	require.Zero(t, g.wait("192.0.2.1", "acme"))
	fail() // the fifth
	assert.Equal(t, time.Second, g.wait("192.0.2.1", ""), "the address")
	assert.Equal(t, time.Second, g.wait("198.51.100.7", "acme"), "the account, from anywhere")
	assert.Zero(t, g.wait("198.51.100.7", "globex"), "another address for another account")

	// Each failure after a back-off ends starts a back-off twice as long,
	// up to the cap.
	want := []time.Duration{2, 4, 8, 16, 32, 64, 128, 256, 300, 300}
	for _, w := range want {
		clk.advance(g.wait("192.0.2.1", "acme"))
		require.Zero(t, g.wait("192.0.2.1", "acme"))
		fail()
		assert.Equal(t, w*time.Second, g.wait("192.0.2.1", "acme"))
	}

	// A quiet window after the last back-off forgives everything: five
	// failures again before the first.
	clk.advance(DefaultAuthBackoffMax + DefaultAuthWindow)
	for range DefaultAuthFailures - 1 {
		fail()
	}
	assert.Zero(t, g.wait("192.0.2.1", "acme"))
	fail()
	assert.Equal(t, time.Second, g.wait("192.0.2.1", "acme"))
}

func TestAuthGuardWindow(t *testing.T) {
	g, clk := testGuard(Limits{AuthFailures: 3, AuthWindow: 10 * time.Second})
	// Two failures a window: never three within one.
	for range 10 {
		g.failed(discard, "192.0.2.1", "acme", "k", "", "/")
		clk.advance(4 * time.Second)
		g.failed(discard, "192.0.2.1", "acme", "k", "", "/")
		clk.advance(7 * time.Second)
		require.Zero(t, g.wait("192.0.2.1", "acme"))
	}
}

func TestAuthGuardOff(t *testing.T) {
	g, _ := testGuard(Limits{AuthFailures: NoLimit})
	for range 100 {
		g.failed(discard, "192.0.2.1", "acme", "k", "", "/")
	}
	assert.Zero(t, g.wait("192.0.2.1", "acme"))
}

// Whatever a client sends, the records stay within their caps.
func TestAuthGuardMemoryBounded(t *testing.T) {
	g, clk := testGuard(Limits{})
	for i := range 3 * maxAuthRecords {
		g.failed(discard, fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), fmt.Sprint("name", i), "k", "", "/")
		clk.advance(time.Millisecond)
	}
	assert.LessOrEqual(t, g.addrs.len(), maxAuthRecords)
	assert.LessOrEqual(t, g.names.len(), maxAuthRecords)
	assert.LessOrEqual(t, g.pairs.len(), maxAuthRecords)
	assert.Equal(t, g.addrs.len(), g.addrs.order.Len())

	// Records quiet for a window are pruned as new failures come.
	clk.advance(DefaultAuthWindow + authLogInterval)
	for i := range 100 {
		g.failed(discard, fmt.Sprint("192.0.2.", i), "acme", "k", "", "/")
	}
	assert.Less(t, g.addrs.len(), maxAuthRecords-100)
	assert.Less(t, g.pairs.len(), maxAuthRecords-100)
}

func TestClientAddr(t *testing.T) {
	tests := []struct{ remote, want string }{
		{"192.0.2.1:5060", "192.0.2.1"},
		{"[::ffff:192.0.2.1]:5060", "192.0.2.1"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1%eth0]:443", "2001:db8:1:2::/64"},
		{"[::1]:80", "::/64"},
		{"not an address", "not an address"},
		{"@:1", "@"},
	}
	for _, tt := range tests {
		t.Run(tt.remote, func(t *testing.T) {
			assert.Equal(t, tt.want, clientAddr(tt.remote))
		})
	}
}

func TestClientBehindTrustedProxies(t *testing.T) {
	ps, err := parseProxies([]string{"10.0.0.0/8", "192.0.2.7", "::1"})
	require.NoError(t, err)
	tests := []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"no header", "10.0.0.1:4000", nil, "10.0.0.1:4000"},
		{"the client the proxy saw", "10.0.0.1:4000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"a client's own entries are not believed", "10.0.0.1:4000", []string{"6.6.6.6, 203.0.113.9"}, "203.0.113.9"},
		{"through two proxies", "10.0.0.1:4000", []string{"203.0.113.9, 10.1.2.3"}, "203.0.113.9"},
		{"headers are joined", "192.0.2.7:1", []string{"198.51.100.1", "10.9.9.9"}, "198.51.100.1"},
		{"IPv6 proxy", "[::1]:5000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"an untrusted peer's header is ignored", "203.0.113.50:4000", []string{"1.2.3.4"}, "203.0.113.50:4000"},
		{"malformed chain", "10.0.0.1:4000", []string{"1.2.3.4, not-an-ip"}, "10.0.0.1:4000"},
		{"only proxies", "10.0.0.1:4000", []string{"10.0.0.2"}, "10.0.0.1:4000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.peer
			for _, h := range tt.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			assert.Equal(t, tt.want, proxies(ps).clientOf(r))
		})
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.1:1"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	assert.Equal(t, "10.0.0.1:1", proxies(nil).clientOf(r), "no trusted proxies: the header is ignored")

	for _, bad := range [][]string{{"nope"}, {"10.0.0.0/33"}, {strings.Repeat("1", 5000)}} {
		_, err := parseProxies(bad)
		require.Error(t, err)
		assert.LessOrEqual(t, len(err.Error()), 100+wire.MaxQuoteLen)
	}
}
