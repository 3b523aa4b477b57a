package main

import (
	"fmt"
	"time"

	"github.com/onecxi/phone/callcore"
)

var _ callcore.QualityCallback = (*printer)(nil)

// OnCallQuality prints each second's quality sample.
func (p *printer) OnCallQuality(q callcore.CallQuality) {
	p.mu.Lock()
	p.quality = q
	p.mu.Unlock()
	p.say("quality", "%s", describeQuality(q))
}

// OnQualityWarning prints a warning raised or cleared, with the value of
// the sample (delivered just before) that raised or cleared it.
func (p *printer) OnQualityWarning(w callcore.QualityWarning, raised bool) {
	p.mu.Lock()
	q := p.quality
	p.mu.Unlock()
	if raised {
		p.say("warning", "%s raised: %s", w, describeWarning(w, q, true))
	} else {
		p.say("cleared", "%s: %s", w, describeWarning(w, q, false))
	}
}

// describeQuality is a quality line: "RTT 42ms, jitter 3.1ms, loss 0.0%,
// concealed 0.0%, MOS 4.38 (good)", and the active warnings.
func describeQuality(q callcore.CallQuality) string {
	s := fmt.Sprintf("RTT %s, jitter %s, loss %.1f%%, concealed %.1f%%, MOS %.2f (%s)",
		q.RTT.Round(time.Millisecond), tenthsMS(q.Jitter), q.Loss, q.Concealment, q.MOS, q.Level)
	for _, w := range q.Warnings {
		s += ", " + string(w)
	}
	return s
}

// describeWarning names the measurement behind w and its threshold: the
// raise threshold when raised, the clear threshold when cleared.
func describeWarning(w callcore.QualityWarning, q callcore.CallQuality, raised bool) string {
	pick := func(up, down string) string {
		if raised {
			return up
		}
		return down
	}
	switch w {
	case callcore.WarningHighRTT:
		return fmt.Sprintf("round-trip time %s (%s)", q.RTT.Round(time.Millisecond),
			pick("over "+callcore.RTTRaiseThreshold.String(), "under "+callcore.RTTClearThreshold.String()))
	case callcore.WarningHighJitter:
		return fmt.Sprintf("jitter %s (%s)", tenthsMS(q.Jitter),
			pick("over "+callcore.JitterRaiseThreshold.String(), "under "+callcore.JitterClearThreshold.String()))
	case callcore.WarningHighLoss:
		return fmt.Sprintf("loss %.1f%% (%s)", q.Loss,
			pick(fmt.Sprintf("over %.1f%%", callcore.LossRaiseThreshold), fmt.Sprintf("under %.1f%%", callcore.LossClearThreshold)))
	case callcore.WarningLowMOS:
		return fmt.Sprintf("MOS %.2f (%s)", q.MOS,
			pick(fmt.Sprintf("under %.1f", callcore.MOSRaiseThreshold), fmt.Sprintf("%.1f or more", callcore.MOSClearThreshold)))
	}
	return string(w)
}

// tenthsMS is d in milliseconds with one decimal, "2.6ms".
func tenthsMS(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}
