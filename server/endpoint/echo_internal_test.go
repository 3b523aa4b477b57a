package endpoint

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/onecxi/phone/wire"
)

// countSink counts frames; safe from any goroutine.
type countSink struct{ n atomic.Int64 }

func (c *countSink) SendAudioRaw([]byte) bool { c.n.Add(1); return true }

// While a call resumes, the old socket's reader and the new one's can both
// hand the echo a frame: under -race this fails if the stamping is not
// guarded.
func TestEchoTakesFramesFromTwoReadersAtOnce(t *testing.T) {
	sink := &countSink{}
	e := NewEcho(sink)
	const perReader = 200
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perReader {
				e.SendAudioRaw(make([]byte, wire.AudioHeaderSize+wire.FrameSamples*wire.BytesPerSample))
			}
		}()
	}
	e.Hold(false) // a resync from a third goroutine meanwhile
	wg.Wait()
	assert.EqualValues(t, 2*perReader, sink.n.Load())
}
