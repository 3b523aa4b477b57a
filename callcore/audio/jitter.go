package audio

import (
	"math"
	"sync"
	"time"

	"github.com/onecxi/phone/wire"
)

// Jitter buffer defaults and limits.
const (
	DefaultMinDelay     = 40 * time.Millisecond
	DefaultMaxDelay     = 300 * time.Millisecond
	DefaultInitialDelay = 60 * time.Millisecond

	// jbResync is the timestamp jump (1 s) beyond which a frame starts a new
	// timeline instead of being concealed up to or dropped as late.
	jbResync = SampleRate
	// jbSeqReset is the sequence jump taken for a sender that restarted its
	// numbering rather than a very old frame.
	jbSeqReset = 3000
	// jbMaxFrames bounds the frames held (2 MiB at the largest size) so a
	// flood of tiny or overlapping frames cannot grow memory.
	jbMaxFrames = 1024
	// jbSeen is how many recent sequence numbers are remembered to detect
	// duplicates and to tell late from lost.
	jbSeen = 256
	// The buffer compares the lowest level it held over a window with its
	// goal: that minimum is excess jitter does not explain, and time
	// compression removes it. Every jbDrainWindow (1 s) an excess over
	// jbDrainOver (10 ms) starts it, and it goes on until what is left is
	// shorter than the shortest splice. A large excess (over jbFastOver,
	// 30 ms, or half the target: a stall's remainder, or a burst that
	// play-out restarted on after running dry) starts it after
	// jbFastWindow (200 ms). A shorter window for small excesses would
	// chase jitter, whose waits at gaps would then cost phase jumps.
	jbDrainWindow = SampleRate
	jbDrainOver   = FrameSamples / 2
	jbFastWindow  = SampleRate / 5
	jbFastOver    = 3 * FrameSamples / 2
	// jbDropOver is the excess (200 ms, or the target if larger) beyond
	// which a backlog is dropped at once rather than compressed.
	jbDropOver = SampleRate / 5
	// jbSpliceWin is the stretch (20 ms) compared to find where a splice
	// joins in phase, and the crossfade of a drop.
	jbSpliceWin = FrameSamples
	// jbSpike is the rise in transit time (200 ms, or twice the target if
	// larger) taken for a stall rather than jitter: the network held
	// frames back and is about to deliver them at once. Such frames do not
	// feed the jitter estimate until one arrives on time again, or
	// jbSpikeMax (2 s) has passed and the higher delay is the new normal.
	jbSpike    = SampleRate / 5
	jbSpikeMax = 2 * SampleRate
	// jbShrink is the time constant (8 s) of the target's slow decay.
	jbShrink = 8 * SampleRate
	// jbFreeList bounds the recycled sample buffers kept.
	jbFreeList = 64
)

// JitterStats are a JitterBuffer's counters since creation or Reset.
type JitterStats struct {
	Received  uint64 // frames accepted
	Lost      uint64 // frames missing at play-out that never arrived
	Late      uint64 // frames dropped for arriving after their play-out time (or with the buffer full)
	Duplicate uint64 // frames dropped as copies of one already received
	Concealed uint64 // samples synthesised (concealment or silence) after play-out began
	Underruns uint64 // times play-out ran dry and had to rebuffer

	// Latency cut after the network delivered a backlog (a stall): samples
	// dropped at once, and samples removed by time compression.
	Dropped, Compressed uint64

	TargetDelay time.Duration // the delay the buffer currently aims for
	Buffered    time.Duration // audio received but not yet played
}

// JitterOption configures a JitterBuffer.
type JitterOption func(*jitterConfig)

type jitterConfig struct {
	min, max, initial time.Duration
	now               func() time.Time
}

// WithMinDelay sets the smallest target delay (default 40 ms).
func WithMinDelay(d time.Duration) JitterOption { return func(c *jitterConfig) { c.min = d } }

// WithMaxDelay sets the largest target delay (default 300 ms).
func WithMaxDelay(d time.Duration) JitterOption { return func(c *jitterConfig) { c.max = d } }

// WithInitialDelay sets the target delay before any jitter is measured
// (default 60 ms); it is kept within the min and max.
func WithInitialDelay(d time.Duration) JitterOption { return func(c *jitterConfig) { c.initial = d } }

// WithClock replaces time.Now as the source of frame arrival times, which
// are all the buffer needs a clock for; tests use it to be deterministic.
func WithClock(now func() time.Time) JitterOption { return func(c *jitterConfig) { c.now = now } }

type jbState uint8

const (
	jbIdle      jbState = iota // no frame yet: silence
	jbBuffering                // waiting for target delay of audio
	jbPlaying
)

// jbFrame is a buffered frame with timestamp and sequence number extended
// to 64 bits, so that ordering needs no wrap-around arithmetic.
type jbFrame struct {
	ts, seq int64
	samples []int16
	touched bool // play-out reached it; its sequence number was accounted
}

func (f *jbFrame) end() int64 { return f.ts + int64(len(f.samples)) }

// JitterBuffer turns frames arriving irregularly from the network into a
// steady stream. One goroutine may Push while another Pops.
//
// Play-out runs on a timeline of sender timestamps: Pop outputs the audio at
// the play-out position and advances it. Before play-out starts, and after
// it runs dry, the buffer waits (outputting concealment, then silence) until
// it holds the target delay of audio; so a short network stall delays the
// audio rather than losing it (a long one's backlog is then cut, below). A gap in the timeline with later audio present is loss:
// it is concealed and play-out moves on (after waiting up to the target
// delay for the missing audio when the buffer is shallow, since it may just
// be reordered). Duplicates are dropped, and so are frames arriving after
// their play-out time ("late"). A marker frame that does not fit the
// timeline, or a timestamp jump over a second, starts a new timeline right
// after the buffered audio instead of concealing the jump.
//
// The target delay follows the measured jitter (RFC 3550 interarrival
// jitter), jumps up on late frames and decays slowly. A stall is not
// jitter: when frames start arriving far later than the last (see
// jbSpike), they are left out of the estimate until one comes on time
// again, so one stall does not raise the target for seconds.
//
// Latency above the target is removed, as WebRTC's NetEq does: a backlog
// far over it (a stall's, delivered at once) is dropped at once, and a
// smaller excess that persists (a stall's remainder, a sender whose clock
// runs fast) is removed by time compression: a pitch period at a time is
// cut out where the audio repeats itself best, crossfaded over the period,
// at most one sample for every two played (so speech stays intelligible).
type JitterBuffer struct {
	mu sync.Mutex
	c  jitterCore
}

// jitterCore is the buffer's state; JitterBuffer serialises access to it.
type jitterCore struct {
	cfg jitterConfig

	state   jbState
	started bool // play-out has begun at least once (for stats)
	frames  []jbFrame
	free    [][]int16

	playTS  int64 // timestamp of the next sample Pop outputs
	maxEnd  int64 // highest frame end received
	held    int64 // samples output while buffering after an underrun
	gapWait int64 // samples waited at a gap for missing audio
	waited  int64 // samples output while buffering with audio present
	refTS   uint32
	extTS   int64 // refTS extended
	refSeq  uint32
	extSeq  int64 // refSeq extended: the highest sequence number seen
	played  int64 // highest sequence number played out
	anySeq  bool  // played is valid
	seen    [jbSeen]int64
	epoch   time.Time
	transit float64 // previous frame's transit time, samples
	jitter  float64 // RFC 3550 interarrival jitter, samples
	haveTr  bool    // transit is valid
	spike   bool    // frames are arriving late from a stall: not jitter
	baseTr  float64 // transit before the spike, samples
	spikeAt float64 // arrival of the spike's first frame, samples

	target, minT, maxT float64 // samples
	minLevel, minFast  int64   // lowest level over the drain and fast windows
	window, fast       int64   // samples popped in the drain and fast windows
	drain              int64   // excess that time compression is to remove
	credit             int64   // what time compression may remove now

	plc   concealer
	stats JitterStats
}

// NewJitterBuffer returns an empty buffer.
func NewJitterBuffer(opts ...JitterOption) *JitterBuffer {
	cfg := jitterConfig{min: DefaultMinDelay, max: DefaultMaxDelay, initial: DefaultInitialDelay, now: time.Now}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	cfg.min = max(cfg.min, 0)
	cfg.max = max(cfg.max, cfg.min)
	cfg.initial = min(max(cfg.initial, cfg.min), cfg.max)
	if cfg.now == nil {
		cfg.now = time.Now
	}
	b := &JitterBuffer{c: jitterCore{cfg: cfg}}
	b.c.reset()
	return b
}

func samplesOf(d time.Duration) float64 { return d.Seconds() * SampleRate }

func durationOf(samples float64) time.Duration {
	return time.Duration(samples * float64(time.Second) / SampleRate)
}

// Reset forgets all frames, statistics and measurements, as for a new call.
func (b *JitterBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.c.reset()
}

func (b *jitterCore) reset() {
	for _, f := range b.frames {
		b.recycle(f.samples)
	}
	*b = jitterCore{
		cfg:    b.cfg,
		frames: b.frames[:0],
		free:   b.free,
		minT:   samplesOf(b.cfg.min),
		maxT:   samplesOf(b.cfg.max),
		target: samplesOf(b.cfg.initial),
	}
	b.resetWindow()
}

// Stats returns the counters and current delays.
func (b *JitterBuffer) Stats() JitterStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.c.statsNow()
}

func (b *jitterCore) statsNow() JitterStats {
	s := b.stats
	s.TargetDelay = durationOf(b.target)
	s.Buffered = durationOf(float64(b.level()))
	return s
}

// level is how much audio lies ahead of play-out (gaps included).
func (b *jitterCore) level() int64 {
	if b.state == jbIdle {
		return 0
	}
	return max(0, b.maxEnd-b.playTS)
}

// Push adds a frame received from the network. The samples are copied.
// Empty or oversized frames are ignored.
func (b *JitterBuffer) Push(f wire.AudioFrame) {
	if n := len(f.Samples); n == 0 || n > wire.MaxFrameSamples {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.c.push(f)
}

func (b *jitterCore) push(f wire.AudioFrame) {
	n := len(f.Samples)
	now := b.cfg.now()
	if b.state == jbIdle {
		b.refTS, b.extTS = f.Timestamp, int64(f.Timestamp)
		b.refSeq, b.extSeq = f.Seq, int64(f.Seq)
		b.playTS, b.maxEnd = b.extTS, b.extTS
		b.epoch = now
		b.state = jbBuffering
		b.insert(b.extTS, b.extSeq, f.Samples, now)
		return
	}
	seq := b.extSeq + int64(int32(f.Seq-b.refSeq))
	ts := b.extTS + int64(int32(f.Timestamp-b.refTS))
	if b.wasSeen(seq) {
		b.stats.Duplicate++
		return
	}
	dseq := seq - b.extSeq
	if dseq > jbSeqReset || dseq < -jbSeqReset {
		// The sender restarted its numbering: carry on with ours.
		seq, dseq = b.extSeq+1, 1
		if b.anySeq {
			b.played = max(b.played, seq-1) // nothing we could know lost
		}
	}
	jump := ts - b.maxEnd
	big := jump > jbResync || jump < -jbResync
	switch {
	case dseq > 0 && (big || f.Flags&wire.FlagMarker != 0 && b.offTimeline(ts)):
		ts = b.resync(f.Timestamp)
	case big:
		// An old frame from before a resynchronisation.
		b.markSeen(seq)
		b.stats.Late++
		return
	}
	if dseq > 0 {
		b.refSeq, b.extSeq = f.Seq, seq
	}
	if ts > b.extTS {
		b.refTS, b.extTS = f.Timestamp, ts
	}
	end := ts + int64(n)
	if b.state == jbBuffering && !b.started && ts < b.playTS {
		// Reordered before the first frame: nothing played yet, start earlier.
		b.playTS = ts
	}
	if ts < b.playTS {
		// Needed earlier than it came: grow the delay fast, but not so far
		// on one very late frame that latency suffers for seconds.
		bump := min(float64(b.playTS-ts), max(FrameSamples, b.target/2))
		b.target = min(b.maxT, b.target+bump)
		if end <= b.playTS {
			b.markSeen(seq)
			b.stats.Late++
			if b.anySeq && seq < b.played && b.stats.Lost > 0 {
				b.stats.Lost-- // counted lost when its successor played
			}
			return
		}
	}
	b.insert(ts, seq, f.Samples, now)
}

// offTimeline reports whether a talk spurt starting at ts would be late or
// leave a gap longer than a short loss after the audio buffered; if not,
// it fits where it is (which keeps a reordered predecessor in its place).
func (b *jitterCore) offTimeline(ts int64) bool {
	return ts < b.playTS || ts-max(b.playTS, b.maxEnd) > 3*FrameSamples
}

// resync starts a new timeline for a frame whose timestamp does not follow
// the previous ones (a new talk spurt, a sender restart): it plays right
// after the audio already buffered, or after the target delay if there is
// none. It returns the frame's new extended timestamp.
func (b *jitterCore) resync(ts uint32) int64 {
	anchor := max(b.playTS, b.maxEnd)
	b.refTS, b.extTS = ts, anchor
	if len(b.frames) == 0 && b.state == jbPlaying {
		b.state, b.held, b.waited = jbBuffering, 0, 0
	}
	// Transit times of the old timeline mean nothing on the new one.
	b.haveTr, b.spike = false, false
	return anchor
}

func (b *jitterCore) wasSeen(seq int64) bool { return b.seen[uint64(seq)%jbSeen] == seq+1 }
func (b *jitterCore) markSeen(seq int64)     { b.seen[uint64(seq)%jbSeen] = seq + 1 }

// insert stores a copy of samples in timestamp order and updates the jitter
// estimate and target delay.
func (b *jitterCore) insert(ts, seq int64, samples []int16, now time.Time) {
	i := len(b.frames)
	for i > 0 && b.frames[i-1].ts > ts {
		i--
	}
	if i > 0 && b.frames[i-1].ts == ts {
		b.stats.Duplicate++ // same audio under another sequence number
		return
	}
	if len(b.frames) >= jbMaxFrames {
		b.stats.Late++
		return
	}
	b.markSeen(seq)
	b.stats.Received++
	buf := b.alloc(len(samples))
	copy(buf, samples)
	b.frames = append(b.frames, jbFrame{})
	copy(b.frames[i+1:], b.frames[i:])
	b.frames[i] = jbFrame{ts: ts, seq: seq, samples: buf}
	b.maxEnd = max(b.maxEnd, ts+int64(len(samples)))

	b.estimate(now.Sub(b.epoch).Seconds()*SampleRate, ts)
	if d := b.desired(); d > b.target {
		b.target = d // grow at once
	}
}

// estimate updates the jitter estimate with a frame that arrived at
// arrival (samples since epoch) with timestamp ts.
func (b *jitterCore) estimate(arrival float64, ts int64) {
	transit := arrival - float64(ts)
	switch {
	case !b.haveTr:
	case b.spike:
		// Held back by a stall. It is over when a frame is on time again
		// (or the higher delay has lasted: the route changed).
		if transit-b.baseTr <= b.target || arrival-b.spikeAt > jbSpikeMax {
			b.spike = false
		}
	case transit-b.transit > max(jbSpike, 2*b.target):
		b.spike, b.baseTr, b.spikeAt = true, b.transit, arrival
	default:
		// RFC 3550 section 6.4.1: J += (|D| - J) / 16, D the change in transit.
		b.jitter += (math.Abs(transit-b.transit) - b.jitter) / 16
	}
	b.transit, b.haveTr = transit, true
}

// desired is the target the jitter calls for: a frame plus three times the
// mean deviation covers nearly all arrivals.
func (b *jitterCore) desired() float64 {
	return min(max(FrameSamples+3*b.jitter, b.minT), b.maxT)
}

func (b *jitterCore) alloc(n int) []int16 {
	for i := len(b.free) - 1; i >= 0; i-- {
		if cap(b.free[i]) >= n {
			buf := b.free[i][:n]
			b.free[i] = b.free[len(b.free)-1]
			b.free = b.free[:len(b.free)-1]
			return buf
		}
	}
	return make([]int16, n, max(n, FrameSamples))
}

func (b *jitterCore) recycle(buf []int16) {
	if len(b.free) < jbFreeList {
		b.free = append(b.free, buf)
	}
}

// dropHead removes the first frame, accounting for it as played.
func (b *jitterCore) dropHead() {
	f := b.frames[0]
	if !f.touched {
		b.account(f.seq, false)
	}
	b.recycle(f.samples)
	copy(b.frames, b.frames[1:])
	b.frames = b.frames[:len(b.frames)-1]
}

// account records that the frame seq was played (or deliberately skipped)
// and counts the sequence numbers before it that never arrived as lost.
func (b *jitterCore) account(seq int64, countLoss bool) {
	if b.anySeq && seq <= b.played {
		return
	}
	if b.anySeq && countLoss && seq-b.played <= jbSeqReset {
		for s := b.played + 1; s < seq; s++ {
			if !b.wasSeen(s) {
				b.stats.Lost++
			}
		}
	}
	b.played, b.anySeq = seq, true
}

// Pop fills out with the next len(out) samples of play-out: real audio when
// it is due, concealment or silence otherwise.
func (b *JitterBuffer) Pop(out []int16) {
	if len(out) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.c.pop(out)
}

func (b *jitterCore) pop(out []int16) {
	if b.state == jbPlaying && b.drain > 0 {
		b.compress()
	}
	for pos := 0; pos < len(out); {
		switch b.state {
		case jbIdle:
			clear(out[pos:])
			pos = len(out)
		case jbBuffering:
			if b.tryStart() {
				continue
			}
			k := int64(len(out) - pos)
			b.plc.fill(out[pos:])
			b.held += k
			if len(b.frames) > 0 {
				b.waited += k
			}
			if b.started {
				b.stats.Concealed += uint64(k)
			}
			pos = len(out)
		case jbPlaying:
			pos += b.play(out[pos:])
		}
	}
	b.adapt(int64(len(out)))
}

// tryStart begins play-out once the target delay of audio is buffered, or
// once audio has waited that long (so a short final burst is not stuck).
func (b *jitterCore) tryStart() bool {
	if len(b.frames) == 0 {
		return false
	}
	start := b.playTS
	if first := b.frames[0].ts; first > start {
		// Time already spent concealing while buffering counts against a
		// gap before the next audio: it was concealed once already.
		start += min(first-start, b.held)
	}
	if float64(b.maxEnd-start) < b.target && float64(b.waited) < b.target {
		return false
	}
	b.playTS = start
	if excess := b.level() - int64(b.target); float64(excess) > b.dropOver() {
		b.dropBacklog(excess) // stale: start with the newest audio
	}
	for len(b.frames) > 0 && b.frames[0].end() <= b.playTS {
		b.dropHead()
	}
	b.state, b.started, b.held, b.waited = jbPlaying, true, 0, 0
	b.resetWindow()
	return true
}

// play outputs from the head of the buffer and returns how many samples it
// wrote (at least one).
func (b *jitterCore) play(out []int16) int {
	for len(b.frames) > 0 && b.frames[0].end() <= b.playTS {
		b.dropHead()
	}
	if len(b.frames) == 0 {
		b.state, b.held, b.waited = jbBuffering, 0, 0
		b.stats.Underruns++
		return 0
	}
	f := &b.frames[0]
	if f.ts > b.playTS {
		k := int(min(f.ts-b.playTS, int64(len(out))))
		if deficit := int64(b.target) - b.level(); deficit > 0 && b.gapWait < int64(b.target) {
			// A shallow buffer: the missing audio may be on its way (the
			// network reordered it). Wait for it, which moves the delay
			// towards the target, rather than writing it off.
			k = int(min(int64(k), deficit))
			b.gapWait += int64(k)
		} else {
			// Later audio is here and waiting is over: the gap is lost.
			b.playTS += int64(k)
		}
		b.plc.fill(out[:k])
		b.stats.Concealed += uint64(k)
		return k
	}
	b.gapWait = 0
	if !f.touched {
		f.touched = true
		b.account(f.seq, true)
	}
	off := int(b.playTS - f.ts)
	src := f.samples[off:min(len(f.samples), off+len(out))]
	k := copy(out, src)
	b.plc.resume()
	b.plc.crossfade(out[:k])
	b.plc.remember(src)
	b.playTS += int64(k)
	if b.playTS >= f.end() {
		b.dropHead()
	}
	return k
}

// adapt decays the target delay and removes latency above it: a backlog at
// once, a lasting excess by time compression.
func (b *jitterCore) adapt(n int64) {
	if b.state == jbIdle {
		return
	}
	if d := b.desired(); b.target > d {
		b.target -= (b.target - d) * math.Min(1, float64(n)/jbShrink)
	}
	if b.state != jbPlaying {
		b.resetWindow()
		b.drain = 0
		return
	}
	b.credit = min(b.credit+n/2, plcMaxPeriod)
	// Just after a pop, a buffer that started at the target holds the
	// target less what the pop took.
	goal := max(0, int64(b.target)-min(n, FrameSamples))
	level := b.level()
	if float64(level-goal) > b.dropOver() {
		b.dropBacklog(level - goal)
		b.resetWindow()
		return
	}
	b.minLevel, b.minFast = min(b.minLevel, level), min(b.minFast, level)
	b.window += n
	b.fast += n
	if b.fast >= jbFastWindow {
		if excess := b.minFast - goal; excess > max(jbFastOver, int64(b.target)/2) {
			b.drain = excess
		}
		b.minFast, b.fast = math.MaxInt64, 0
	}
	if b.window < jbDrainWindow {
		return
	}
	excess := b.minLevel - goal
	if excess > jbDrainOver || b.drain > 0 && excess >= plcMinPeriod {
		b.drain = excess
	} else {
		b.drain = 0
	}
	b.resetWindow()
}

func (b *jitterCore) resetWindow() {
	b.minLevel, b.window = math.MaxInt64, 0
	b.minFast, b.fast = math.MaxInt64, 0
}

// dropOver is the excess (over the target, or over the goal just after a
// pop) beyond which audio is dropped at once rather than compressed.
func (b *jitterCore) dropOver() float64 { return max(jbDropOver, b.target) }

// dropBacklog drops up to n samples of play-out at once, and at most 10 ms
// fewer: it joins the stretch that continues best from the audio at the
// play-out position (10 ms of lags hold a whole pitch period of voices
// from 100 Hz up, and several of a tone's), crossfaded from it.
func (b *jitterCore) dropBacklog(n int64) {
	const search = plcMaxPeriod / 2
	if n <= search {
		return
	}
	var from [jbSpliceWin]int16
	var to [jbSpliceWin + search]int16
	lo := n - search
	b.peek(from[:], b.playTS)
	b.peek(to[:], b.playTS+lo)
	k := lo + int64(bestLag(from[:], to[:]))
	b.playTS += k
	for len(b.frames) > 0 && b.frames[0].end() <= b.playTS {
		b.dropHead()
	}
	b.plc.fadeFrom(from[:])
	b.stats.Dropped += uint64(k)
	b.drain = 0
}

// compress removes a pitch period from the audio ahead (time compression,
// as in WSOLA or NetEq's accelerate): it finds the lag k at which the audio
// best repeats itself and continues from k, crossfading over k samples
// from the audio it skips, so the signal goes on in phase. It waits for
// credit for a whole period (half of what played since the last splice:
// play-out runs at most 1.5 times as fast) and for the last crossfade to end.
func (b *jitterCore) compress() {
	// The lag is searched over all periods, not just up to the drain: a
	// short range may hold no lag in phase, and a splice out of phase is
	// heard. Overshooting the drain costs at most a period of margin.
	if b.drain < plcMinPeriod || b.credit < plcMaxPeriod || b.plc.fading() {
		return
	}
	var ahead [jbSpliceWin + plcMaxPeriod]int16
	if !b.peekAll(ahead[:], b.playTS) {
		return // not enough audio without a gap ahead: later
	}
	k := int64(plcMinPeriod + bestLag(ahead[:jbSpliceWin], ahead[plcMinPeriod:]))
	b.playTS += k
	for len(b.frames) > 0 && b.frames[0].end() <= b.playTS {
		b.dropHead()
	}
	b.plc.fadeFrom(ahead[:k])
	b.drain = max(0, b.drain-k)
	b.credit -= k
	b.stats.Compressed += uint64(k)
}

// bestLag returns the offset j in y at which y[j:j+len(x)] is most like x
// (normalised cross-correlation); 0 when nothing correlates.
func bestLag(x, y []int16) int {
	best, bestScore := 0, 0.0
	var yy float64
	for _, v := range y[:len(x)] {
		yy += float64(v) * float64(v)
	}
	for j := 0; j+len(x) <= len(y); j++ {
		if j > 0 { // slide the window's energy along
			o, v := float64(y[j-1]), float64(y[j+len(x)-1])
			yy += v*v - o*o
		}
		var xy float64
		for i, v := range x {
			xy += float64(v) * float64(y[j+i])
		}
		if yy > 0 && xy > 0 {
			if s := xy / math.Sqrt(yy); s > bestScore {
				best, bestScore = j, s
			}
		}
	}
	return best
}

// peekAll is peek that reports whether buffered audio covered all of dst.
func (b *jitterCore) peekAll(dst []int16, ts int64) bool {
	b.peek(dst, ts)
	next := ts
	for _, f := range b.frames {
		if f.ts > next {
			break
		}
		next = max(next, f.end())
		if next >= ts+int64(len(dst)) {
			return true
		}
	}
	return false
}

// peek copies buffered audio starting at ts into dst; zero where none.
func (b *jitterCore) peek(dst []int16, ts int64) {
	clear(dst)
	for _, f := range b.frames {
		lo, hi := max(f.ts, ts), min(f.end(), ts+int64(len(dst)))
		if lo < hi {
			copy(dst[lo-ts:hi-ts], f.samples[lo-f.ts:hi-f.ts])
		}
	}
}
