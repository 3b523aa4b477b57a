package audio

import (
	"math"
)

// Packet-loss concealment parameters.
const (
	// plcHistory is how much real audio is kept to find a pitch period in.
	plcHistory = 2 * FrameSamples
	// plcMinPeriod and plcMaxPeriod bound the repeated period: 2.5-20 ms
	// covers voice pitch (and multiples of any tone's period).
	plcMinPeriod = 20
	plcMaxPeriod = FrameSamples
	// plcLength is how long a loss is concealed before going silent:
	// beyond ~100 ms a repeated sound is worse than a gap.
	plcLength = 5 * FrameSamples
	// plcFade is the crossfade into real audio after concealment or
	// silence (5 ms), long enough to avoid a click, short enough to be
	// inaudible.
	plcFade = 40
)

// plcGain is the concealment envelope: -6 dB per 20 ms, then a linear fade
// to silence over the last 20 ms so that the end is not a click either.
var plcGain = func() (g [plcLength]float32) {
	for i := range g {
		v := math.Exp2(-float64(i) / FrameSamples)
		if tail := plcLength - i; tail < FrameSamples {
			v *= float64(tail) / FrameSamples
		}
		g[i] = float32(v)
	}
	return g
}()

// concealer synthesises audio for samples that did not arrive by repeating
// the last pitch period of real audio with decaying gain (the idea of ITU-T
// G.711 Appendix I, much simplified), and crossfades back into real audio.
type concealer struct {
	hist      [plcHistory]int16 // ring of the last real samples played
	histPos   int               // next write index in hist
	histValid int               // how much of hist holds real audio

	period int                 // length of the repeated cycle
	cycle  [plcMaxPeriod]int16 // the cycle, copied when concealment starts
	pos    int                 // samples concealed so far; 0: not concealing
	fade   [plcMaxPeriod]int16 // what to fade out of into real audio
	fadeN  int                 // valid samples in fade
	fadeI  int                 // next fade sample to mix
}

func (c *concealer) reset() { *c = concealer{} }

// remember records real audio as the source of future concealment.
func (c *concealer) remember(s []int16) {
	if len(s) > plcHistory {
		s = s[len(s)-plcHistory:]
	}
	for _, v := range s {
		c.hist[c.histPos] = v
		c.histPos = (c.histPos + 1) % plcHistory
	}
	c.histValid = min(plcHistory, c.histValid+len(s))
}

// histAt returns the real sample back samples before the newest (back >= 1).
func (c *concealer) histAt(back int) int16 {
	return c.hist[(c.histPos-back+2*plcHistory)%plcHistory]
}

// concealing reports whether the last output was audible concealment, so
// that resuming real audio deserves a crossfade.
func (c *concealer) concealing() bool {
	return c.pos > 0 && c.pos < plcLength && c.histValid > 0
}

// fill writes concealment into out.
func (c *concealer) fill(out []int16) {
	for i := range out {
		out[i] = c.next()
	}
}

func (c *concealer) next() int16 {
	if c.pos == 0 {
		c.start()
	}
	if c.pos >= plcLength || c.period == 0 {
		c.pos = plcLength // stay silent, and remember we are past it
		return 0
	}
	v := float32(c.cycle[c.pos%c.period]) * plcGain[c.pos]
	c.pos++
	return int16(v)
}

// start picks the period to repeat: the lag with the highest normalised
// autocorrelation of the recent history, so that a voiced sound or a tone
// continues in phase instead of clicking every frame.
func (c *concealer) start() {
	c.period, c.fadeN = 0, 0
	n := c.histValid
	if n == 0 {
		return
	}
	best := min(n, plcMaxPeriod)
	const window = plcHistory - plcMaxPeriod
	if n >= window+plcMinPeriod {
		bestScore := -2.0
		for p := plcMinPeriod; p <= min(plcMaxPeriod, n-window); p++ {
			var xy, xx, yy float64
			for i := 1; i <= window; i++ {
				x, y := float64(c.histAt(i)), float64(c.histAt(i+p))
				xy += x * y
				xx += x * x
				yy += y * y
			}
			if xx == 0 || yy == 0 {
				continue
			}
			if s := xy / math.Sqrt(xx*yy); s > bestScore {
				best, bestScore = p, s
			}
		}
	}
	c.period = best
	for i := range best {
		c.cycle[i] = c.histAt(best - i)
	}
}

// resume prepares the crossfade from concealment into real audio and ends
// the concealment.
func (c *concealer) resume() {
	switch {
	case c.concealing():
		c.fadeN, c.fadeI = plcFade, 0
		for i := range plcFade {
			c.fade[i] = c.next()
		}
	case c.pos > 0 && c.histValid > 0:
		// Resuming from the silence concealment faded into: fade in, so
		// that audio starting mid-wave does not click.
		c.fadeN, c.fadeI = plcFade, 0
		clear(c.fade[:plcFade])
	case c.pos > 0:
		c.fadeN = 0 // the first audio: nothing to fade from
	}
	c.pos = 0
}

// fading reports whether a crossfade into real audio is under way.
func (c *concealer) fading() bool { return c.fadeI < c.fadeN }

// fadeFrom makes the next real samples crossfade out of s (what would have
// played had the buffer not skipped ahead), over len(s) samples, at most
// plcMaxPeriod.
func (c *concealer) fadeFrom(s []int16) {
	c.fadeN = copy(c.fade[:], s)
	c.fadeI = 0
}

// crossfade mixes the pending fade-out into real audio in out.
func (c *concealer) crossfade(out []int16) {
	for i := 0; i < len(out) && c.fadeI < c.fadeN; i++ {
		w := float32(c.fadeI+1) / float32(c.fadeN+1)
		out[i] = int16(float32(out[i])*w + float32(c.fade[c.fadeI])*(1-w))
		c.fadeI++
	}
}
