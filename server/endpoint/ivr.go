package endpoint

import (
	"sync"
)

// maxIVRQueue bounds the clips waiting to play, so a client hammering digits
// cannot make the server buffer minutes of audio. Each digit queues three.
const maxIVRQueue = 48

// IVR is the far end of an "ivr" DID: it speaks the welcome prompt and then,
// for every digit pressed, plays the digit's DTMF tone and speaks its name, in
// the order pressed. One paced player sends it; it is idle (no ticker) when
// nothing is queued.
type IVR struct {
	src *clipQueue
	p   *Player
}

// NewIVR starts an IVR speaking into out.
func NewIVR(spawn Spawner, out AudioSink) *IVR {
	c := clips()
	q := &clipQueue{}
	q.add(c.welcome)
	return &IVR{src: q, p: StartPlayer(spawn, out, q)}
}

// SendAudioRaw implements Endpoint: the IVR only listens for DTMF messages,
// so audio is discarded.
func (v *IVR) SendAudioRaw([]byte) bool { return true }

// DTMF implements Endpoint: the digit's tone and its spoken name are queued.
func (v *IVR) DTMF(d byte) {
	c := clips()
	if v.src.add(c.tones[d], c.gap, c.digits[d]) {
		v.p.Poke()
	}
}

// Hold implements Endpoint: the prompt pauses where it was.
func (v *IVR) Hold(on bool) { v.p.Pause(on) }

// Close implements Endpoint.
func (v *IVR) Close() { v.p.Stop() }

var _ Endpoint = (*IVR)(nil)

// clipQueue plays clips back to back. add is called by the registry, Next by
// the player's goroutine.
type clipQueue struct {
	mu    sync.Mutex
	queue [][]int16
	pos   int // into queue[0]
}

// add queues clips (all or none) and reports whether they were queued.
func (q *clipQueue) add(clips ...[]int16) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.queue)+len(clips) > maxIVRQueue {
		return false
	}
	for _, c := range clips {
		if len(c) > 0 {
			q.queue = append(q.queue, c)
		}
	}
	return true
}

// Next implements FrameSource.
func (q *clipQueue) Next(out []int16) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.queue) == 0 {
		return false
	}
	n := 0
	for n < len(out) && len(q.queue) > 0 {
		k := copy(out[n:], q.queue[0][q.pos:])
		n += k
		q.pos += k
		if q.pos == len(q.queue[0]) {
			q.queue[0] = nil
			q.queue = q.queue[1:]
			q.pos = 0
		}
	}
	clear(out[n:]) // the last frame of the last clip is padded with silence
	return true
}
