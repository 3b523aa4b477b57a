package callcore

import (
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/wire"
)

// Call quality: an extension beyond the guide. Once a second during an
// answered call the SDK measures the round-trip time (the protocol's
// application ping/pong on the call socket), the interarrival jitter of the
// audio received, loss and concealment over the last second, and estimates
// a MOS with the E-model; warnings are raised and cleared with hysteresis at
// Twilio-like thresholds. See CallQuality, QualityCallback and
// SDK.CallQuality.

// QualityInterval is how often a call's quality is sampled.
const QualityInterval = time.Second

// Warning thresholds: a warning is raised when its metric is past the raise
// threshold in QualityRaiseCount of the last QualityRaiseWindow samples, and
// cleared once it has been back past the clear threshold (80 % of the raise
// threshold; for MOS, 80 % of the distance below 4.5) for QualityClearCount
// consecutive samples, so a metric hovering at the threshold does not make
// the warning flap.
const (
	RTTRaiseThreshold    = 400 * time.Millisecond // high_rtt above
	JitterRaiseThreshold = 30 * time.Millisecond  // high_jitter above
	LossRaiseThreshold   = 3.0                    // high_loss above, percent
	MOSRaiseThreshold    = 3.5                    // low_mos below

	RTTClearThreshold    = RTTRaiseThreshold * 8 / 10        // 320 ms
	JitterClearThreshold = JitterRaiseThreshold * 8 / 10     // 24 ms
	LossClearThreshold   = LossRaiseThreshold * 0.8          // 2.4 %
	MOSClearThreshold    = 4.5 - (4.5-MOSRaiseThreshold)*0.8 // 3.7

	QualityRaiseCount  = 3 // samples past the raise threshold …
	QualityRaiseWindow = 5 // … among the last this many
	QualityClearCount  = 5 // consecutive samples past the clear threshold
)

// QualityWarning names a call quality problem (Twilio's warning names).
type QualityWarning string

// Quality warnings, in the order CallQuality.Warnings lists them.
const (
	WarningHighRTT    QualityWarning = "high_rtt"    // RTT > RTTRaiseThreshold
	WarningHighJitter QualityWarning = "high_jitter" // jitter > JitterRaiseThreshold
	WarningHighLoss   QualityWarning = "high_loss"   // loss > LossRaiseThreshold
	WarningLowMOS     QualityWarning = "low_mos"     // MOS < MOSRaiseThreshold
)

// qualityWarnings is every warning in order.
var qualityWarnings = [...]QualityWarning{WarningHighRTT, WarningHighJitter, WarningHighLoss, WarningLowMOS}

// QualityLevel summarises a call's quality for an indicator.
type QualityLevel int

// Quality levels.
const (
	QualityUnknown QualityLevel = iota // no sample yet
	QualityGood                        // no warning active
	QualityFair                        // a warning other than low_mos is active
	QualityPoor                        // low_mos is active
)

func (l QualityLevel) String() string {
	switch l {
	case QualityGood:
		return "good"
	case QualityFair:
		return "fair"
	case QualityPoor:
		return "poor"
	}
	return "unknown"
}

// CallQuality is one quality sample of the current call, taken every
// QualityInterval while it is answered.
type CallQuality struct {
	CallID string
	At     time.Time

	// RTT is the round-trip time of the last ping on the call socket (a ping
	// still unanswered for longer counts with its age so far); zero until
	// the first pong.
	RTT time.Duration
	// Jitter is the RFC 3550 interarrival jitter of the audio received.
	Jitter time.Duration
	// Loss is the percentage of the frames expected over the last interval
	// that never arrived or arrived too late to play (0-100).
	Loss float64
	// Concealment is the percentage of the samples played over the last
	// interval that the jitter buffer synthesised (0-100): loss
	// concealment, or silence while nothing arrived (also while the other
	// side is muted).
	Concealment float64
	// Delay is the one-way mouth-to-ear delay the E-model is given: half
	// the RTT plus the jitter buffer's target delay.
	Delay time.Duration
	// R is the E-model's transmission rating (0-100) and MOS the mean
	// opinion score estimated from it (1-4.5); see EModelR.
	R, MOS float64

	// Warnings are the warnings active after this sample, in the order of
	// the Warning constants; nil when none is. Shared: do not modify.
	Warnings []QualityWarning
	// Level summarises Warnings.
	Level QualityLevel
}

// Has reports whether warning w is active in q.
func (q CallQuality) Has(w QualityWarning) bool {
	for _, x := range q.Warnings {
		if x == w {
			return true
		}
	}
	return false
}

// QualityCallback is an optional extension of CallProgressCallback (beyond
// the guide): a callback that also implements it gets each quality sample
// of the current call, every QualityInterval while it is answered, and each
// warning raised or cleared. A sample is delivered before the warnings it
// raised or cleared (and already lists them in Warnings); all of them come
// in order with the other events, and none after onCallEnded.
type QualityCallback interface {
	OnCallQuality(q CallQuality)
	OnQualityWarning(w QualityWarning, raised bool)
}

// OnCallQuality implements QualityCallback.
func (f CallbackFuncs) OnCallQuality(q CallQuality) {
	if f.Quality != nil {
		f.Quality(q)
	}
}

// OnQualityWarning implements QualityCallback.
func (f CallbackFuncs) OnQualityWarning(w QualityWarning, raised bool) {
	if f.QualityWarning != nil {
		f.QualityWarning(w, raised)
	}
}

var _ QualityCallback = CallbackFuncs{}

// CallQuality returns the latest quality sample of the current call, or the
// last one of the last call when none is live; zero (At zero, Level
// QualityUnknown) before the first sample.
func (s *SDK) CallQuality() CallQuality {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.quality
}

// The E-model (ITU-T G.107, "The E-model: a computational model for use in
// transmission planning", 06/2015), reduced to what a G.711 call over a
// packet network varies in, with every other parameter at G.107's default:
//
//	R  = 93.2 − Id − Ie,eff
//	Id = 0.024·Ta + 0.11·(Ta − 177.3)·H(Ta − 177.3)   (Ta: one-way delay, ms; H: step)
//	Ie,eff = Ie + (95 − Ie)·Ppl / (Ppl/BurstR + Bpl)  (Ppl: packet loss, %)
//	MOS = 1 + 0.035·R + 7·10⁻⁶·R·(R − 60)·(100 − R)   (G.107 Annex B; 1 below R 0, 4.5 above 100)
//
// 93.2 is R0 − Is with every parameter at G.107's default value. Id is the
// delay impairment in the simplified form of Cole and Rosenbluth ("Voice
// over IP performance monitoring", ACM SIGCOMM CCR 31(2), 2001), a fit of
// G.107's Idd with echo perfectly cancelled. For G.711 with packet loss
// concealment ITU-T G.113 Appendix I gives Ie = 0 and Bpl = 25.1; loss is
// taken as random (BurstR = 1). So with no loss and little delay R ≈ 93
// (MOS 4.4, G.711's best), 3 % loss costs about 10 points and a one-way
// delay of 300 ms about 21.
const (
	emodelR0     = 93.2 // R with G.107's default parameters and no impairment
	g711Ie       = 0.0  // equipment impairment of G.711 (G.113 Appendix I)
	g711Bpl      = 25.1 // packet-loss robustness of G.711 with PLC (G.113 Appendix I)
	emodelBurstR = 1.0  // burst ratio: random loss
)

// EModelR is the E-model's R for a G.711 call with one-way delay oneWay and
// lossPercent % of packets lost (see the formula above), in 0..100.
func EModelR(oneWay time.Duration, lossPercent float64) float64 {
	ta := float64(oneWay) / float64(time.Millisecond)
	ta = max(ta, 0)
	id := 0.024 * ta
	if ta > 177.3 {
		id += 0.11 * (ta - 177.3)
	}
	ppl := min(max(lossPercent, 0), 100)
	ie := g711Ie + (95-g711Ie)*ppl/(ppl/emodelBurstR+g711Bpl)
	return min(max(emodelR0-id-ie, 0), 100)
}

// MOSFromR converts an E-model rating to an estimated mean opinion score
// (ITU-T G.107 Annex B), in 1..4.5.
func MOSFromR(r float64) float64 {
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	return 1 + 0.035*r + 7e-6*r*(r-60)*(100-r)
}

// jitterResync is the timestamp/arrival mismatch (1 s of samples) beyond
// which a frame is taken to start a new timeline (hold music, a sender's
// restart) rather than to measure jitter.
const jitterResync = wire.SampleRate

// interarrival estimates the RFC 3550 interarrival jitter (section 6.4.1)
// of the frames a call receives, from their arrival times and timestamps:
// for consecutive frames i and j, D = (Rj − Ri) − (Sj − Si) in samples and
// J += (|D| − J)/16. arrive runs on the socket's reader goroutine for every
// frame and allocates nothing; jitter may be read from any goroutine.
type interarrival struct {
	prevArrival time.Time
	prevTS      uint32
	have        bool
	j           float64       // samples
	out         atomic.Uint64 // math.Float64bits(j)
}

// arrive accounts a frame with timestamp ts arriving at now. A marker frame
// starts a talk spurt whose timestamp may not follow the previous one: it
// becomes the new reference without a jitter measurement.
func (a *interarrival) arrive(ts uint32, marker bool, now time.Time) {
	if a.have && !marker {
		d := now.Sub(a.prevArrival).Seconds()*wire.SampleRate - float64(int32(ts-a.prevTS))
		if d < 0 {
			d = -d
		}
		if d < jitterResync {
			a.j += (d - a.j) / 16
			a.out.Store(math.Float64bits(a.j))
		}
	}
	a.prevArrival, a.prevTS, a.have = now, ts, true
}

// jitter is the current estimate, to the nearest nanosecond (rounded, not
// truncated: arm64 fuses arrive's multiply and subtract, so its estimate
// may lie a hair below amd64's, and 1 ms must not come out as 999.999 µs).
func (a *interarrival) jitter() time.Duration {
	j := math.Float64frombits(a.out.Load())
	return time.Duration(math.Round(j * float64(time.Second) / wire.SampleRate))
}

// hysteresis is one warning's state: raised when its metric is past the
// raise threshold in QualityRaiseCount of the last QualityRaiseWindow
// samples, cleared after QualityClearCount consecutive samples past the
// clear threshold.
type hysteresis struct {
	raised bool
	recent uint8 // the last QualityRaiseWindow samples, newest in bit 0: 1 = past the raise threshold
	good   int   // consecutive samples past the clear threshold, while raised
}

// feed takes one sample: over means past the raise threshold, under past
// the clear threshold. It reports whether the warning was raised or
// cleared by it.
func (h *hysteresis) feed(over, under bool) (changed bool) {
	if !h.raised {
		h.recent <<= 1
		if over {
			h.recent |= 1
		}
		h.recent &= 1<<QualityRaiseWindow - 1
		if bits.OnesCount8(h.recent) >= QualityRaiseCount {
			h.raised, h.recent, h.good = true, 0, 0
			return true
		}
		return false
	}
	if under {
		h.good++
	} else {
		h.good = 0
	}
	if h.good >= QualityClearCount {
		h.raised, h.good = false, 0
		return true
	}
	return false
}

// qualityChange is a warning raised or cleared.
type qualityChange struct {
	w      QualityWarning
	raised bool
}

// qualityTracker turns samples into warnings.
type qualityTracker struct {
	h [len(qualityWarnings)]hysteresis
}

// update feeds q's metrics to every warning, sets q.Warnings and q.Level,
// and returns the warnings raised or cleared, in the Warning constants'
// order.
func (t *qualityTracker) update(q *CallQuality) []qualityChange {
	var changes []qualityChange
	q.Warnings = nil
	for i, w := range qualityWarnings {
		var over, under bool
		switch w {
		case WarningHighRTT:
			over, under = q.RTT > RTTRaiseThreshold, q.RTT < RTTClearThreshold
		case WarningHighJitter:
			over, under = q.Jitter > JitterRaiseThreshold, q.Jitter < JitterClearThreshold
		case WarningHighLoss:
			over, under = q.Loss > LossRaiseThreshold, q.Loss < LossClearThreshold
		case WarningLowMOS:
			over, under = q.MOS < MOSRaiseThreshold, q.MOS >= MOSClearThreshold
		}
		if t.h[i].feed(over, under) {
			changes = append(changes, qualityChange{w, t.h[i].raised})
		}
		if t.h[i].raised {
			q.Warnings = append(q.Warnings, w)
		}
	}
	q.Level = QualityGood
	if len(q.Warnings) > 0 {
		q.Level = QualityFair
	}
	if q.Has(WarningLowMOS) {
		q.Level = QualityPoor
	}
	return changes
}

// maxPings bounds the unanswered pings remembered.
const maxPings = 64

// sentPing is a ping awaiting its pong: its ts and when it was sent, on
// the monotonic clock (so the RTT has sub-millisecond resolution and a
// wall-clock step does not distort it).
type sentPing struct {
	ts int64
	at time.Time
}

// qualitySampler measures one call's quality: it pings on the call socket
// and takes a sample every interval from the call's answer to its end, on
// a goroutine of its own (nothing here runs per frame).
type qualitySampler struct {
	c *call

	pingMu              sync.Mutex
	pings               []sentPing // not yet answered, oldest first (the last maxPings)
	firstPing, lastPing int64      // ts of the first and last ping sent
	rtt                 time.Duration
	haveRTT             bool

	// The sampler goroutine's own.
	prevJB     audio.JitterStats
	prevPlayed uint64
	tracker    qualityTracker
}

// start runs the sampler until the call ends. Callers hold s.mu, with the
// call just answered; finishCall waits for it.
func (q *qualitySampler) start(interval time.Duration) {
	q.c.qualityDone.Add(1)
	go func() {
		defer q.c.qualityDone.Done()
		q.run(interval)
	}()
}

// conn is the call's socket now (a resumed call changes it), or nil while
// reconnecting.
func (q *qualitySampler) conn() *wire.Conn {
	q.c.s.mu.Lock()
	defer q.c.s.mu.Unlock()
	return q.c.conn
}

func (q *qualitySampler) run(interval time.Duration) {
	m := q.c.media
	q.prevJB = m.jb.Stats()
	q.prevPlayed = m.playedSamples.Load()
	if conn := q.conn(); conn != nil {
		q.ping(conn, time.Now())
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-q.c.ctx.Done():
			return
		case now := <-t.C:
			now = time.Now() // the tick's time carries no monotonic reading
			if !q.sample(now) {
				return
			}
			if conn := q.conn(); conn != nil {
				q.ping(conn, now)
			}
		}
	}
}

// ping sends {"type":"ping","ts":<unix ms>} on the call socket. Each ts
// is unique (one more than the last when the clock has not moved on), so
// its pong names exactly one ping.
func (q *qualitySampler) ping(conn *wire.Conn, now time.Time) {
	q.pingMu.Lock()
	ts := max(now.UnixMilli(), q.lastPing+1)
	if len(q.pings) == maxPings {
		q.pings = append(q.pings[:0], q.pings[1:]...)
	}
	q.pings = append(q.pings, sentPing{ts, now})
	if q.firstPing == 0 {
		q.firstPing = ts
	}
	q.lastPing = ts
	// Queued under the lock (Send never blocks): two pings on two
	// goroutines leave in the order of their ts.
	_ = conn.Send(wire.Message{Type: wire.TypePing, TS: ts})
	q.pingMu.Unlock()
}

// pong takes the server's answer to a ping (on the reader goroutine): RTT
// = now − the ping's send time. Pongs come in order, so it answers every
// earlier ping too. One echoing a ts outside the pings sent is ignored.
func (q *qualitySampler) pong(ts int64, now time.Time) {
	q.pingMu.Lock()
	defer q.pingMu.Unlock()
	if q.firstPing == 0 || ts < q.firstPing || ts > q.lastPing {
		return
	}
	// A ping forgotten (over maxPings unanswered) is timed by its ts.
	rtt := time.Duration(now.UnixMilli()-ts) * time.Millisecond
	i := 0
	for ; i < len(q.pings) && q.pings[i].ts <= ts; i++ {
		if q.pings[i].ts == ts {
			rtt = now.Sub(q.pings[i].at)
		}
	}
	q.pings = append(q.pings[:0], q.pings[i:]...)
	q.rtt = max(rtt, 0)
	q.haveRTT = true
}

// currentRTT is the last RTT measured, or the age of the oldest ping still
// unanswered when that is longer (the RTT is at least that now). Before
// the first pong it is zero: a server that does not answer pings shows no
// RTT rather than an ever-growing one.
func (q *qualitySampler) currentRTT(now time.Time) time.Duration {
	q.pingMu.Lock()
	defer q.pingMu.Unlock()
	rtt := q.rtt
	if len(q.pings) > 0 && q.haveRTT {
		rtt = max(rtt, now.Sub(q.pings[0].at))
	}
	return rtt
}

// sample takes one sample and delivers it with the warnings it changed. It
// reports false once the call is no longer the SDK's current call.
func (q *qualitySampler) sample(now time.Time) bool {
	m := q.c.media
	jb := m.jb.Stats()
	played := m.playedSamples.Load()
	prev := q.prevJB
	if jb.Received < prev.Received || jb.Concealed < prev.Concealed {
		prev = audio.JitterStats{} // the buffer was reset (answer, resume after hold)
	}
	qs := CallQuality{
		At:     now,
		RTT:    q.currentRTT(now),
		Jitter: m.arrivals.jitter(),
	}
	qs.Loss = lossPercent(prev, jb)
	if dp := played - q.prevPlayed; dp > 0 {
		qs.Concealment = min(100, 100*float64(delta(prev.Concealed, jb.Concealed))/float64(dp))
	}
	q.prevJB, q.prevPlayed = jb, played
	qs.Delay = qs.RTT/2 + jb.TargetDelay
	qs.R = EModelR(qs.Delay, qs.Loss)
	qs.MOS = MOSFromR(qs.R)
	changes := q.tracker.update(&qs)

	s := q.c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.call != q.c || q.c.phase != phaseActive {
		return false
	}
	qs.CallID = q.c.serverID
	s.quality = qs
	s.disp.emit(func(cb CallProgressCallback) {
		if qc, ok := cb.(QualityCallback); ok {
			qc.OnCallQuality(qs)
		}
	})
	for _, ch := range changes {
		s.log.Info("callcore: call quality warning", "warning", string(ch.w), "raised", ch.raised,
			"rtt", qs.RTT, "jitter", qs.Jitter, "loss_pct", qs.Loss, "mos", qs.MOS)
		s.disp.emit(func(cb CallProgressCallback) {
			if qc, ok := cb.(QualityCallback); ok {
				qc.OnQualityWarning(ch.w, ch.raised)
			}
		})
	}
	return true
}

// lossPercent is the share of frames expected between two jitter-buffer
// snapshots that were lost or late: Δ(Lost + Late) / (ΔReceived + Δ(Lost +
// Late)); 0 when no frame was expected (on hold, say). Lost and Late are
// summed before the difference is taken: a frame counted lost that arrives
// late after all moves from Lost to Late and is not counted twice.
func lossPercent(prev, cur audio.JitterStats) float64 {
	bad := delta(prev.Lost+prev.Late, cur.Lost+cur.Late)
	expected := delta(prev.Received, cur.Received) + bad
	if expected == 0 {
		return 0
	}
	return 100 * float64(bad) / float64(expected)
}

// delta is cur − prev, or 0 if the counter went down.
func delta(prev, cur uint64) uint64 {
	if cur < prev {
		return 0
	}
	return cur - prev
}
