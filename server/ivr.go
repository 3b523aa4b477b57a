package server

import (
	"sync"
)

// maxIVRQueue bounds the clips waiting to play, so a client hammering digits
// cannot make the server buffer minutes of audio. Each digit queues three.
const maxIVRQueue = 48

// ivr is the far end of an "ivr" DID: it speaks the welcome prompt and then,
// for every digit pressed, plays the digit's DTMF tone and speaks its name, in
// the order pressed. One paced player sends it; it is idle (no ticker) when
// nothing is queued.
type ivr struct {
	src *clipQueue
	p   *player
}

func newIVR(spawn func(func()) bool, out AudioSink) *ivr {
	c := clips()
	q := &clipQueue{}
	q.add(c.welcome)
	return &ivr{src: q, p: startPlayer(spawn, out, q)}
}

// SendAudioRaw takes the caller's audio; the IVR only listens for DTMF
// messages, so audio is discarded.
func (v *ivr) SendAudioRaw([]byte) bool { return true }

func (v *ivr) dtmf(d byte) {
	c := clips()
	if v.src.add(c.tones[d], c.gap, c.digits[d]) {
		v.p.poke()
	}
}

func (v *ivr) hold(on bool) { v.p.pause(on) }
func (v *ivr) close()       { v.p.stop() }

// clipQueue plays clips back to back. add is called by the registry, next by
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

func (q *clipQueue) next(out []int16) bool {
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
