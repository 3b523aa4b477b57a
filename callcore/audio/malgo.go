//go:build cgo

package audio

/*
#include <stdlib.h>
*/
import "C"

import (
	"context"
	"encoding/hex"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/gen2brain/malgo"

	"github.com/onecxi/phone/wire"
)

// malgoPeriodMillis is the sound card callback period asked for: short, to
// keep latency low; miniaudio may pick another, which the adapter absorbs.
const malgoPeriodMillis = 10

var malgoBackends = map[Backend]malgo.Backend{
	BackendWASAPI:      malgo.BackendWasapi,
	BackendDirectSound: malgo.BackendDsound,
	BackendWinMM:       malgo.BackendWinmm,
	BackendCoreAudio:   malgo.BackendCoreaudio,
	BackendSndio:       malgo.BackendSndio,
	BackendAudio4:      malgo.BackendAudio4,
	BackendOSS:         malgo.BackendOss,
	BackendPulseAudio:  malgo.BackendPulseaudio,
	BackendALSA:        malgo.BackendAlsa,
	BackendJACK:        malgo.BackendJack,
	BackendAAudio:      malgo.BackendAaudio,
	BackendOpenSL:      malgo.BackendOpensl,
	BackendWebAudio:    malgo.BackendWebaudio,
	// malgo v0.11 numbers its BackendNull as miniaudio's ma_backend_custom
	// (it misses that enum value), so it would select no backend at all;
	// null is the one after custom, which follows webaudio.
	BackendNull: malgo.BackendWebaudio + 2,
}

// MalgoDevice is the real microphone and speaker, through miniaudio. It
// opens them as two devices at 8 kHz mono 16-bit (miniaudio converts from
// whatever the hardware does), so the speaker can be switched alone.
type MalgoDevice struct {
	mu  sync.Mutex
	cfg malgoConfig
	run *malgoRun
}

// malgoRun is one Start..Stop of a MalgoDevice.
type malgoRun struct {
	mu      sync.Mutex // guards the devices against a concurrent switch
	ctx     *malgo.AllocatedContext
	adapter *duplexAdapter
	capture *openDevice
	play    *openDevice
	closed  bool

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{} // closed once torn down
}

// openDevice is an initialised miniaudio device and the C copy of its ID.
type openDevice struct {
	dev *malgo.Device
	id  unsafe.Pointer
}

func (o *openDevice) close() {
	if o == nil {
		return
	}
	o.dev.Uninit() // stops it and waits for its callback to return
	if o.id != nil {
		C.free(o.id)
	}
}

// NewMalgoDevice returns a stopped device; nothing is opened until Start.
func NewMalgoDevice(opts ...MalgoOption) *MalgoDevice {
	return &MalgoDevice{cfg: newMalgoConfig(opts)}
}

// Name describes the device.
func (d *MalgoDevice) Name() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return fmt.Sprintf("miniaudio (backends %s; capture %s, playback %s)",
		backendList(d.cfg.backends), orDefault(d.cfg.captureID), orDefault(d.cfg.playbackID))
}

func backendList(b []Backend) string {
	if len(b) == 0 {
		return "default"
	}
	s := make([]string, len(b))
	for i, x := range b {
		s[i] = string(x)
	}
	return strings.Join(s, ",")
}

func orDefault(id string) string {
	if id == "" {
		return "default"
	}
	return id
}

// Start opens the microphone and speaker and clocks s from the microphone
// until Stop or ctx ends. Errors wrap ErrNoDevice with miniaudio's reason.
func (d *MalgoDevice) Start(ctx context.Context, s Stream) error {
	if s == nil {
		return errNilStream
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.run != nil {
		select {
		case <-d.run.done: // ended with its context
		default:
			return ErrStarted
		}
	}
	mctx, err := initMalgoContext(d.cfg.backends)
	if err != nil {
		return err
	}
	r := &malgoRun{ctx: mctx, adapter: newDuplexAdapter(s), stop: make(chan struct{}), done: make(chan struct{})}
	if r.capture, err = openMalgo(mctx, malgo.Capture, d.cfg.captureID, r.adapter); err == nil {
		r.play, err = openMalgo(mctx, malgo.Playback, d.cfg.playbackID, r.adapter)
	}
	if err == nil {
		// Playback first, so the speaker is ready when capture produces.
		if err = r.play.dev.Start(); err != nil {
			err = fmt.Errorf("%w: starting playback: %v", ErrNoDevice, err)
		} else if err = r.capture.dev.Start(); err != nil {
			err = fmt.Errorf("%w: starting capture: %v", ErrNoDevice, err)
		}
	}
	if err != nil {
		r.teardown()
		return err
	}
	d.run = r
	go r.watch(ctx)
	return nil
}

func initMalgoContext(backends []Backend) (*malgo.AllocatedContext, error) {
	var mb []malgo.Backend
	for _, b := range backends {
		v, ok := malgoBackends[b]
		if !ok {
			return nil, fmt.Errorf("%w: unknown audio backend %s", ErrNoDevice, wire.Quote(string(b)))
		}
		mb = append(mb, v)
	}
	mctx, err := malgo.InitContext(mb, malgoContextConfig(runtime.GOOS), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: audio context: %v", ErrNoDevice, err)
	}
	return mctx, nil
}

// malgoContextConfig is miniaudio's context configuration on goos. On iOS
// the audio session belongs to CallKit, which the platform has configured
// (playAndRecord, voiceChat) and activated before a call's audio starts:
// miniaudio must leave the category alone, where by default it would set
// playAndRecord with the loudspeaker as the default output.
func malgoContextConfig(goos string) malgo.ContextConfig {
	var c malgo.ContextConfig
	if goos == "ios" {
		c.CoreAudio.SessionCategory = malgo.IOSSessionCategoryNone
	}
	return c
}

// openMalgo initialises a capture or playback device wired to a.
func openMalgo(mctx *malgo.AllocatedContext, kind malgo.DeviceType, id string, a *duplexAdapter) (*openDevice, error) {
	data := func(_, in []byte) { a.captured(in) }
	if kind == malgo.Playback {
		data = func(out, _ []byte) { a.pull(out) }
	}
	return openMalgoFunc(mctx, kind, id, data)
}

// openMalgoFunc initialises a capture or playback device whose audio
// thread calls data with the buffer to fill (out) or the samples captured
// (in), 8 kHz mono 16-bit little-endian.
func openMalgoFunc(mctx *malgo.AllocatedContext, kind malgo.DeviceType, id string, data func(out, in []byte)) (*openDevice, error) {
	role := "playback"
	if kind == malgo.Capture {
		role = "capture"
	}
	cfg := malgo.DefaultDeviceConfig(kind)
	cfg.SampleRate = SampleRate
	cfg.PeriodSizeInMilliseconds = malgoPeriodMillis
	sub := &cfg.Playback
	if kind == malgo.Capture {
		sub = &cfg.Capture
	}
	sub.Format = malgo.FormatS16
	sub.Channels = 1
	var o openDevice
	if id != "" {
		mid, err := parseDeviceID(id)
		if err != nil {
			return nil, err
		}
		// miniaudio reads the ID through a pointer in C memory (cgo does
		// not let C hold a pointer to Go memory inside a Go struct).
		o.id = mid.Pointer()
		sub.DeviceID = o.id
	}
	cb := malgo.DeviceCallbacks{Data: func(out, in []byte, _ uint32) { data(out, in) }}
	dev, err := malgo.InitDevice(mctx.Context, cfg, cb)
	if err != nil {
		if o.id != nil {
			C.free(o.id)
		}
		return nil, fmt.Errorf("%w: opening %s device %s: %v", ErrNoDevice, role, orDefault(id), err)
	}
	o.dev = dev
	return &o, nil
}

func parseDeviceID(id string) (malgo.DeviceID, error) {
	var mid malgo.DeviceID
	b, err := hex.DecodeString(id)
	if err != nil || len(b) > len(mid) {
		return mid, fmt.Errorf("%w: malformed device ID %s", ErrNoDevice, wire.Quote(id))
	}
	copy(mid[:], b)
	return mid, nil
}

func formatDeviceID(id malgo.DeviceID) string { return id.String() }

// watch tears the run down when it is stopped or its context ends.
func (r *malgoRun) watch(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-r.stop:
	}
	r.teardown()
	close(r.done)
}

func (r *malgoRun) teardown() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	r.capture.close()
	r.play.close()
	if r.ctx != nil {
		_ = r.ctx.Uninit()
		r.ctx.Free()
	}
}

// Stop closes the microphone and speaker; when it returns the Stream is no
// longer called. Safe to call twice.
func (d *MalgoDevice) Stop() error {
	d.mu.Lock()
	r := d.run
	d.run = nil
	d.mu.Unlock()
	if r == nil {
		return nil
	}
	r.stopOnce.Do(func() { close(r.stop) })
	<-r.done
	return nil
}

// SetPlaybackDevice switches the speaker (by DeviceInfo.ID, "" for the
// default), while running too: the new one is opened before the old one is
// closed, so on error the old one keeps playing.
func (d *MalgoDevice) SetPlaybackDevice(id string) error {
	if _, err := parseDeviceID(id); id != "" && err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.run
	if r == nil {
		d.cfg.playbackID = id
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		d.cfg.playbackID = id
		return nil
	}
	next, err := openMalgo(r.ctx, malgo.Playback, id, r.adapter)
	if err != nil {
		return err
	}
	if err := next.dev.Start(); err != nil {
		next.close()
		return fmt.Errorf("%w: starting playback device %s: %v", ErrNoDevice, orDefault(id), err)
	}
	old := r.play
	r.play = next
	old.close()
	d.cfg.playbackID = id
	return nil
}

// ListDevices returns the microphones and speakers miniaudio finds, for a
// settings screen. A device that both captures and plays under one ID is
// listed once. Errors wrap ErrNoDevice.
func ListDevices(opts ...MalgoOption) ([]DeviceInfo, error) {
	cfg := newMalgoConfig(opts)
	mctx, err := initMalgoContext(cfg.backends)
	if err != nil {
		return nil, err
	}
	defer func() {
		_ = mctx.Uninit()
		mctx.Free()
	}()
	var out []DeviceInfo
	index := map[DeviceInfo]int{} // by ID, name and default-ness
	for _, kind := range []malgo.DeviceType{malgo.Capture, malgo.Playback} {
		infos, err := mctx.Devices(kind)
		if err != nil {
			return nil, fmt.Errorf("%w: listing devices: %v", ErrNoDevice, err)
		}
		for _, info := range infos {
			key := DeviceInfo{ID: formatDeviceID(info.ID), Name: info.Name(), IsDefault: info.IsDefault != 0}
			i, ok := index[key]
			if !ok {
				i = len(out)
				index[key] = i
				out = append(out, key)
			}
			if kind == malgo.Capture {
				out[i].Capture = true
			} else {
				out[i].Playback = true
			}
		}
	}
	return out, nil
}
