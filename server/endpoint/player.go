package endpoint

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/wire"
)

// Spawner runs f on a goroutine the server waits for at shutdown; it returns
// false once the server is past waiting (f is then not run).
type Spawner func(f func()) bool

// FrameSource produces 20 ms frames for a player. Next fills out and reports
// whether it had anything to play; false idles the player until poked.
type FrameSource interface {
	Next(out []int16) bool
}

// Player paces a FrameSource into a sink at one frame per 20 ms, on one
// goroutine with one time.Ticker. The ticker runs only while there is
// something to play and the player is not paused, so an idle IVR or a call
// off hold costs nothing.
type Player struct {
	sink   AudioSink
	src    FrameSource
	wake   chan struct{}
	quit   chan struct{}
	once   sync.Once
	paused atomic.Bool
}

// StartPlayer starts playing src into sink at once. spawn runs the player's
// goroutine (so the server can wait for it); it returns nil if spawn refuses.
func StartPlayer(spawn Spawner, sink AudioSink, src FrameSource) *Player {
	p := &Player{sink: sink, src: src, wake: make(chan struct{}, 1), quit: make(chan struct{})}
	if !spawn(p.run) {
		return nil
	}
	return p
}

func (p *Player) run() {
	var (
		tick *time.Ticker
		tc   <-chan time.Time
		st   = NewStamper()
		buf  = make([]int16, wire.FrameSamples)
	)
	start := func() {
		if tick == nil && !p.paused.Load() {
			tick = time.NewTicker(wire.FrameMillis * time.Millisecond)
			tc = tick.C
			st.Resync(time.Now())
		}
	}
	stop := func() {
		if tick != nil {
			tick.Stop()
			tick, tc = nil, nil
		}
	}
	defer stop()
	start()
	for {
		select {
		case <-p.quit:
			return
		case <-p.wake:
			if p.paused.Load() {
				stop()
			} else {
				start()
			}
		case now := <-tc:
			if p.paused.Load() || !p.src.Next(buf) {
				stop()
				continue
			}
			p.sink.SendAudioRaw(st.Encode(buf, now))
		}
	}
}

// Poke tells the player there may be something new to play. The Player
// methods are no-ops on nil (a player refused during shutdown).
func (p *Player) Poke() {
	if p == nil {
		return
	}
	select {
	case p.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// Pause stops (true) or resumes (false) playback where it was.
func (p *Player) Pause(on bool) {
	if p == nil {
		return
	}
	p.paused.Store(on)
	p.Poke()
}

// Stop ends the player; safe to call more than once and on nil.
func (p *Player) Stop() {
	if p != nil {
		p.once.Do(func() { close(p.quit) })
	}
}

// Loop plays an endless generator such as hold music or a tone.
type Loop struct{ Src dsp.Source }

// Next implements FrameSource: there is always something to play.
func (l Loop) Next(out []int16) bool {
	l.Src.Fill(out)
	return true
}
