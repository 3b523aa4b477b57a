package audio

import (
	"encoding/binary"
	"sync"
)

// duplexFIFO is the most audio the playback queue can hold (512 ms).
const duplexFIFO = 4096

// duplexAdapter turns a sound card's callbacks, which come with any number
// of samples, into a Stream's 20 ms frames. Capture drives the Stream:
// every FrameSamples captured samples it calls Capture, then Playback, and
// queues what Playback wrote for the playback callback. Neither side
// allocates: they run on the audio thread.
type duplexAdapter struct {
	stream Stream

	// Only the capture callback touches these.
	in   [FrameSamples]int16
	inN  int
	play [FrameSamples]int16

	mu       sync.Mutex
	fifo     [duplexFIFO]int16
	head, n  int  // ring of queued playback samples
	priming  bool // waiting for a cushion before playing (again)
	pullMax  int  // largest playback request seen
	burstMax int  // most samples one capture callback queued
	starved  uint64
	dropped  uint64
}

func newDuplexAdapter(s Stream) *duplexAdapter { return &duplexAdapter{stream: s, priming: true} }

// captured takes little-endian 16-bit mono samples from the microphone.
func (a *duplexAdapter) captured(b []byte) {
	if burst := (a.inN + len(b)/2) / FrameSamples * FrameSamples; burst > 0 {
		a.mu.Lock()
		a.burstMax = max(a.burstMax, burst)
		a.mu.Unlock()
	}
	for len(b) >= 2 {
		n := min(FrameSamples-a.inN, len(b)/2)
		for i := range n {
			a.in[a.inN+i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
		}
		a.inN += n
		b = b[2*n:]
		if a.inN < FrameSamples {
			return
		}
		a.inN = 0
		a.stream.Capture(a.in[:])
		clear(a.play[:])
		a.stream.Playback(a.play[:])
		a.queue(a.play[:])
	}
}

// cushion is how much audio playback waits for before it starts or resumes:
// enough to cover the larger of a capture burst and a playback request,
// plus a frame, so that matched clocks never starve.
func (a *duplexAdapter) cushion() int {
	return min(duplexFIFO/2, max(a.pullMax, a.burstMax)+FrameSamples)
}

// queue appends a played frame, dropping the oldest audio beyond what the
// cushion needs: a speaker clock slower than the microphone's must not
// build up latency.
func (a *duplexAdapter) queue(s []int16) {
	a.mu.Lock()
	defer a.mu.Unlock()
	limit := min(duplexFIFO, a.cushion()+a.burstMax+a.pullMax)
	if over := a.n + len(s) - limit; over > 0 {
		drop := min(over, a.n)
		a.head = (a.head + drop) % duplexFIFO
		a.n -= drop
		a.dropped += uint64(drop)
	}
	for _, v := range s[max(0, len(s)-limit):] {
		a.fifo[(a.head+a.n)%duplexFIFO] = v
		a.n++
	}
}

// pull fills b with little-endian 16-bit mono samples for the speaker:
// silence while priming, and if the queue runs dry.
func (a *duplexAdapter) pull(b []byte) {
	want := len(b) / 2
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pullMax = max(a.pullMax, min(want, duplexFIFO/4))
	if a.priming && a.n < a.cushion() {
		a.starved += uint64(want)
		clear(b)
		return
	}
	a.priming = false
	k := min(want, a.n)
	for i := range k {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(a.fifo[(a.head+i)%duplexFIFO]))
	}
	a.head = (a.head + k) % duplexFIFO
	a.n -= k
	if k < want {
		a.starved += uint64(want - k)
		a.priming = true
	}
	clear(b[2*k:])
}
