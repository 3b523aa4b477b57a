package wire

import "sync"

// Audio frame buffers are recycled: at 50 frames a second per leg, a fresh
// buffer per frame is most of a busy server's garbage. A buffer from the pool
// travels reader → handler → SendAudioRaw → writer, which returns it after
// writing. Buffers of any other capacity are never pooled, so foreign
// buffers passed to SendAudioRaw are simply left to the collector.
const frameBufCap = MaxMessage

var framePool = sync.Pool{New: func() any { return new([frameBufCap]byte) }}

// AudioBuffer returns an empty buffer for encoding one frame (AppendAudio)
// before SendAudioRaw, which takes it back.
func AudioBuffer() []byte { return framePool.Get().(*[frameBufCap]byte)[:0] }

// recycle returns b to the pool if it came from there.
func recycle(b []byte) {
	if cap(b) == frameBufCap {
		framePool.Put((*[frameBufCap]byte)(b[:frameBufCap]))
	}
}
