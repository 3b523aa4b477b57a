package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
)

// waitQuality bounds raising or clearing a warning: a few one-second
// samples (3 of 5 to raise, 5 in a row to clear) plus the network's
// settling, with room for a loaded machine.
const waitQuality = 20 * time.Second

func describe(q callcore.CallQuality) string {
	return fmt.Sprintf("RTT %v jitter %v loss %.1f%% concealed %.1f%% MOS %.2f %v", q.RTT, q.Jitter, q.Loss,
		q.Concealment, q.MOS, q.Warnings)
}

// goodQuality waits until the phone's last sample is good, and checks the
// measurements behind it.
func (p *phone) goodQuality() {
	p.t.Helper()
	require.Eventually(p.t, func() bool {
		q := p.sdk.CallQuality()
		return !q.At.IsZero() && q.Level == callcore.QualityGood
	}, waitQuality, 20*time.Millisecond, "%s: quality never good: %s", p.number, describe(p.sdk.CallQuality()))
	q := p.sdk.CallQuality()
	assert.Less(p.t, q.RTT, callcore.RTTClearThreshold)
	assert.Greater(p.t, q.MOS, callcore.MOSClearThreshold)
}

// Each impairment the proxy injects into A's network raises its warning on
// A within a few samples, and removing it clears the warning.
func TestQualityWarningsFollowTheNetwork(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		warn   callcore.QualityWarning
		impair func(p *proxy)
		repair func(p *proxy)
		check  func(t *testing.T, q callcore.CallQuality)
	}{
		{
			name: "delay", warn: callcore.WarningHighRTT,
			// 300 ms each way: an RTT of 600 ms, and a one-way delay the
			// E-model scores under 3.5.
			impair: func(p *proxy) { p.delay.Store(int64(300 * time.Millisecond)) },
			repair: func(p *proxy) { p.delay.Store(0) },
			check: func(t *testing.T, q callcore.CallQuality) {
				assert.Greater(t, q.RTT, callcore.RTTRaiseThreshold)
			},
		},
		{
			name: "loss", warn: callcore.WarningHighLoss,
			// One frame in ten from the server lost: 10 %.
			impair: func(p *proxy) { p.dropEvery.Store(10) },
			repair: func(p *proxy) { p.dropEvery.Store(0) },
			check: func(t *testing.T, q callcore.CallQuality) {
				assert.InDelta(t, 10, q.Loss, 5)
			},
		},
		{
			name: "jitter", warn: callcore.WarningHighJitter,
			// The server's audio held and released every 200 ms: ten
			// frames at once, then nothing. RFC 3550 jitter about 36 ms.
			impair: func(p *proxy) { p.burst.Store(int64(200 * time.Millisecond)) },
			repair: func(p *proxy) { p.burst.Store(0) },
			check: func(t *testing.T, q callcore.CallQuality) {
				// Raised by 3 samples of the last 5 over 30 ms; this one is
				// at least past the clear threshold. (Over TCP, where a
				// frame can come late but never early, RFC 3550 jitter of
				// 20 ms frames stays under 40 ms.)
				assert.Greater(t, q.Jitter, callcore.JitterClearThreshold)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, a, b := proxiedAppCall(t)
			a.hears(toneB)
			a.goodQuality()

			tc.impair(p)
			a.waitForWithin("warning "+string(tc.warn), waitQuality)
			q := a.sdk.CallQuality()
			t.Logf("raised: %s", describe(q))
			assert.True(t, q.Has(tc.warn), describe(q))
			assert.NotEqual(t, callcore.QualityGood, q.Level)
			tc.check(t, q)
			assert.True(t, a.sdk.IsCallActive(), "the call goes on")

			tc.repair(p)
			a.waitForWithin("cleared "+string(tc.warn), waitQuality)
			a.goodQuality()
			b.hears(toneA)
		})
	}
}
