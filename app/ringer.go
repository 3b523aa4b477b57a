package app

import (
	"log/slog"
	"sync"

	"github.com/onecxi/phone/callcore/audio"
)

// ringer plays the ringtone while an incoming call is on screen. Opening a
// sound device can take a moment, so it happens off the UI goroutine; a
// stop that overtakes the opening closes the device as soon as it is open.
type ringer struct {
	sound  soundSystem
	output func() string // the device to ring on: the chosen loudspeaker
	log    *slog.Logger

	mu      sync.Mutex
	gen     int    // bumped by every start and stop
	stopDev func() // the playing device, nil when silent
	wg      sync.WaitGroup
}

// start rings, unless it already does.
func (r *ringer) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopDev != nil {
		return
	}
	r.gen++
	gen := r.gen
	out := r.output()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		stop, err := r.sound.Play(audio.NewRingtone(), out)
		if err != nil {
			// The call still shows and can be answered; only the sound is missing.
			r.log.Warn("ringtone: no sound device", "err", err)
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.gen != gen || r.stopDev != nil { // stopped (or restarted) while opening
			stop()
			return
		}
		r.stopDev = stop
	}()
}

// stop silences the ringtone; safe when not ringing.
func (r *ringer) stop() {
	r.mu.Lock()
	r.gen++
	stop := r.stopDev
	r.stopDev = nil
	r.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// close stops ringing and waits for a device still opening.
func (r *ringer) close() {
	r.stop()
	r.wg.Wait()
}
