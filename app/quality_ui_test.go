package app

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/screens/screentest"
)

// A real call to the echo DID: the SDK's samples reach the indicator.
func TestInCallShowsCallQuality(t *testing.T) {
	ph := newSignedInPhone(t, "tone:440")
	ph.dial(kindDID, "90000")
	ph.waitAnswered(t)
	ph.waitFor(t, "the first quality sample", func(u *UI) bool {
		q := u.InCall.Quality
		return q.Visible() && q.Label.Text == "Good" && strings.HasPrefix(q.Details.Text, "RTT ")
	})
	ph.ui.Do(func() {
		q := ph.p.UI.InCall.Quality
		assert.False(t, q.Details.Visible(), "details wait for hover or tap")
		assert.False(t, q.Warning.Visible(), "loopback has nothing to warn about")
	})
	assert.Equal(t, callcore.QualityGood, ph.p.SDK.CallQuality().Level)

	ph.tap(func(u *UI) *widget.Button { return u.InCall.Hangup })
	ph.waitScreen(t, "dialer")
	ph.ui.Do(func() { assert.False(t, ph.p.UI.InCall.Quality.Visible()) })
}

// Samples and warnings delivered the way the SDK's dispatcher delivers them
// (from another goroutine, into the UI's callback methods) are shown, and
// a cleared warning disappears.
func TestQualityWarningsThroughTheCallbacks(t *testing.T) {
	ph := newSignedInPhone(t, "none")
	u := ph.p.UI
	active := callcore.CallStatus{IsCallOngoing: true, CallType: callcore.CallTypeInbound, CurrentDID: "90000",
		RegisteredNumber: ownNum}.WithState(callcore.CallStateActive)
	u.OnCallStatusChanged(active)
	u.OnCallStarted(callcore.CallTypeInbound, "90000", ownNum)
	ph.waitAnswered(t)

	good := callcore.CallQuality{At: time.Now(), RTT: 30 * time.Millisecond, Jitter: 2 * time.Millisecond,
		MOS: 4.39, Level: callcore.QualityGood}
	slow := good
	slow.RTT, slow.MOS, slow.Level = 520*time.Millisecond, 3.9, callcore.QualityFair
	slow.Warnings = []callcore.QualityWarning{callcore.WarningHighRTT}

	u.OnCallQuality(good)
	ph.waitFor(t, "good quality", func(u *UI) bool { return u.InCall.Quality.Label.Text == "Good" })

	u.OnCallQuality(slow)
	u.OnQualityWarning(callcore.WarningHighRTT, true)
	ph.waitFor(t, "the high_rtt warning", func(u *UI) bool {
		q := u.InCall.Quality
		return q.Label.Text == "Fair" && q.Warning.Visible() && q.Warning.Text == "High latency (RTT 520 ms)"
	})

	u.OnCallQuality(good)
	u.OnQualityWarning(callcore.WarningHighRTT, false)
	ph.waitFor(t, "the warning cleared", func(u *UI) bool {
		q := u.InCall.Quality
		return q.Label.Text == "Good" && !q.Warning.Visible()
	})

	u.OnCallStatusChanged(callcore.CallStatus{})
	u.OnCallEnded(callcore.CallTypeInbound, "90000")
	ph.waitScreen(t, "dialer")
	u.OnCallQuality(slow) // late: after the call
	ph.ui.Flush()
	require.False(t, screentest.Get(ph.ui, func() bool { return u.InCall.Quality.Visible() }))
}
