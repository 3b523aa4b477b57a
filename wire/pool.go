package wire

import "sync"

// Audio frame buffers are recycled: at 50 frames a second per leg, a fresh
// buffer per frame is most of a busy server's garbage. A buffer from the pool
// travels reader → handler → SendAudioRaw → writer, which returns it after
// writing. Buffers of any other capacity are never pooled, so foreign
// buffers passed to SendAudioRaw are simply left to the collector.
const frameBufCap = MaxAudioMessage

var framePool = sync.Pool{New: func() any { return new([frameBufCap]byte) }}

// AudioBuffer returns an empty buffer for encoding one frame (AppendAudio)
// before SendAudioRaw, which takes it back.
func AudioBuffer() []byte { return framePool.Get().(*[frameBufCap]byte)[:0] }

// ReleaseAudioBuffer gives a frame buffer back to the pool once its owner
// (an AudioSink other than a Conn, such as an RTP bridge) is done with it.
// Buffers that did not come from AudioBuffer are left to the collector.
func ReleaseAudioBuffer(b []byte) { recycle(b) }

// recycle returns b to the pool if it came from there.
func recycle(b []byte) {
	if cap(b) == frameBufCap {
		framePool.Put((*[frameBufCap]byte)(b[:frameBufCap]))
	}
}
