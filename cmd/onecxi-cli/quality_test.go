package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/server/servertest"
)

func TestPrintsQualityAndWarnings(t *testing.T) {
	var out servertest.SyncBuffer
	p := newPrinter(&out)
	bad := callcore.CallQuality{
		RTT: 612 * time.Millisecond, Jitter: 4200 * time.Microsecond, Loss: 1.25, Concealment: 2.5, MOS: 3.31,
		Warnings: []callcore.QualityWarning{callcore.WarningHighRTT, callcore.WarningLowMOS}, Level: callcore.QualityPoor,
	}
	p.OnCallQuality(bad)
	p.OnQualityWarning(callcore.WarningHighRTT, true)
	p.OnQualityWarning(callcore.WarningLowMOS, true)
	good := callcore.CallQuality{RTT: 41 * time.Millisecond, MOS: 4.38, Level: callcore.QualityGood}
	p.OnCallQuality(good)
	p.OnQualityWarning(callcore.WarningHighRTT, false)
	p.OnQualityWarning(callcore.WarningLowMOS, false)

	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		got = append(got, l[strings.Index(l, "s  ")+3:]) // without the elapsed time
	}
	assert.Equal(t, []string{
		"quality    RTT 612ms, jitter 4.2ms, loss 1.2%, concealed 2.5%, MOS 3.31 (poor), high_rtt, low_mos",
		"warning    high_rtt raised: round-trip time 612ms (over 400ms)",
		"warning    low_mos raised: MOS 3.31 (under 3.5)",
		"quality    RTT 41ms, jitter 0.0ms, loss 0.0%, concealed 0.0%, MOS 4.38 (good)",
		"cleared    high_rtt: round-trip time 41ms (under 320ms)",
		"cleared    low_mos: MOS 4.38 (3.7 or more)",
	}, got)
}

func TestDescribeWarning(t *testing.T) {
	q := callcore.CallQuality{Jitter: 35 * time.Millisecond, Loss: 7.5}
	assert.Equal(t, "jitter 35.0ms (over 30ms)", describeWarning(callcore.WarningHighJitter, q, true))
	assert.Equal(t, "jitter 35.0ms (under 24ms)", describeWarning(callcore.WarningHighJitter, q, false))
	assert.Equal(t, "loss 7.5% (over 3.0%)", describeWarning(callcore.WarningHighLoss, q, true))
	assert.Equal(t, "loss 7.5% (under 2.4%)", describeWarning(callcore.WarningHighLoss, q, false))
	assert.Equal(t, "something_new", describeWarning("something_new", q, true))
}
