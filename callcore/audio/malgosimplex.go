//go:build cgo

package audio

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/gen2brain/malgo"

	"github.com/onecxi/phone/dsp"
)

// StartPlayback plays src on the playback device selected by opts (the
// system default without WithPlaybackDevice) until the returned stop is
// called: a ringtone needs the speaker but must not open the microphone.
// src is filled on miniaudio's audio thread only. stop waits for the device
// to close and is safe to call more than once. Errors wrap ErrNoDevice.
func StartPlayback(src dsp.Source, opts ...MalgoOption) (stop func(), err error) {
	cfg := newMalgoConfig(opts)
	var buf []int16
	return startSimplex(cfg.backends, malgo.Playback, cfg.playbackID, func(out, _ []byte) {
		n := len(out) / 2
		if cap(buf) < n {
			buf = make([]int16, n)
		}
		buf = buf[:n]
		src.Fill(buf)
		for i, v := range buf {
			binary.LittleEndian.PutUint16(out[2*i:], uint16(v))
		}
	})
}

// StartCapture opens the microphone selected by opts and hands sink every
// chunk it captures (any length; on miniaudio's audio thread; reused after
// sink returns) until the returned stop is called: a level meter needs
// the microphone but not the speaker. Errors wrap ErrNoDevice.
func StartCapture(sink func(samples []int16), opts ...MalgoOption) (stop func(), err error) {
	cfg := newMalgoConfig(opts)
	var buf []int16
	return startSimplex(cfg.backends, malgo.Capture, cfg.captureID, func(_, in []byte) {
		n := len(in) / 2
		if cap(buf) < n {
			buf = make([]int16, n)
		}
		buf = buf[:n]
		for i := range buf {
			buf[i] = int16(binary.LittleEndian.Uint16(in[2*i:]))
		}
		sink(buf)
	})
}

func startSimplex(backends []Backend, kind malgo.DeviceType, id string, data func(out, in []byte)) (func(), error) {
	mctx, err := initMalgoContext(backends)
	if err != nil {
		return nil, err
	}
	dev, err := openMalgoFunc(mctx, kind, id, data)
	if err == nil {
		if err = dev.dev.Start(); err != nil {
			dev.close()
			err = fmt.Errorf("%w: starting device %s: %v", ErrNoDevice, orDefault(id), err)
		}
	}
	if err != nil {
		_ = mctx.Uninit()
		mctx.Free()
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			dev.close()
			_ = mctx.Uninit()
			mctx.Free()
		})
	}, nil
}
