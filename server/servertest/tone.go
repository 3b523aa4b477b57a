package servertest

import (
	"sync"
	"time"

	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/wire"
)

// StreamTone calls send with a tone at freq, one 20 ms frame of samples at
// a time, paced in real time, until the returned stop is called or done
// closes. send numbers and sends the frame (it may keep samples only until
// it returns). stop waits for the last send to finish; calling it again
// does nothing.
func StreamTone(freq float64, done <-chan struct{}, send func(samples []int16)) (stop func()) {
	tone := &dsp.Tone{Freq: freq, Amplitude: 0.5}
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tk := time.NewTicker(wire.FrameMillis * time.Millisecond)
		defer tk.Stop()
		buf := make([]int16, wire.FrameSamples)
		for {
			select {
			case <-quit:
				return
			case <-done:
				return
			case <-tk.C:
				tone.Fill(buf)
				send(buf)
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(quit); <-finished }) }
}

// Frames numbers a test client's outgoing audio: sequence numbers from a
// base (so a receiver can tell whose frames it got), RTP-style timestamps
// counted in samples. It is safe for concurrent use.
type Frames struct {
	mu      sync.Mutex
	seq, ts uint32
}

// From makes the next frame's sequence number base.
func (f *Frames) From(base uint32) {
	f.mu.Lock()
	f.seq = base
	f.mu.Unlock()
}

// Next is the next frame of samples.
func (f *Frames) Next(samples []int16) wire.AudioFrame {
	f.mu.Lock()
	defer f.mu.Unlock()
	fr := wire.AudioFrame{Seq: f.seq, Timestamp: f.ts, Samples: samples}
	f.seq++
	f.ts += uint32(len(samples))
	return fr
}
