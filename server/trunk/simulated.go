package trunk

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onecxi/phone/dsp"
	"github.com/onecxi/phone/server/endpoint"
	"github.com/onecxi/phone/wire"
)

// What the simulated far end remembers of each call, for tests to assert on.
const (
	simRecordSamples = 10 * wire.SampleRate // the last 10 s of audio heard
	simKeepCalls     = 64                   // recordings kept, newest first
	simMaxDigits     = 256
)

// Simulated stands in for the telephone network until a SIP trunk is
// configured. Every call rings, answers after the configured delay and then
// echoes the caller's audio (mode "echo") or plays a tone ("tone:<hz>");
// numbers listed as busy fail with busy. It logs "SIMULATED PSTN" on every
// call so nobody mistakes it for a real connection, and it records what the
// far end heard so tests can check it.
type Simulated struct {
	log    *slog.Logger
	delay  time.Duration
	toneHz float64
	busy   map[string]bool
	wg     sync.WaitGroup

	mu    sync.Mutex
	calls map[string]*simCall
	order []string // call IDs, oldest first, for eviction
}

// SimulatedConfig tunes a simulated trunk.
type SimulatedConfig struct {
	// AnswerDelay is how long the far end rings before answering.
	AnswerDelay time.Duration
	// Mode is what the far end does once answered: "echo" (ModeEcho, the
	// default) sends the caller's audio back; "tone:<hz>" (ModeTone) plays
	// a tone.
	Mode string
	// Busy lists numbers that fail with busy, to exercise failures.
	Busy []string
}

// Simulated far-end modes.
const (
	ModeEcho = "echo"
	ModeTone = "tone:" // followed by a frequency in Hz
)

// ParseMode returns a simulated far end's tone frequency, or 0 for echo.
func ParseMode(s string) (toneHz float64, err error) {
	switch {
	case s == "" || s == ModeEcho:
		return 0, nil
	case strings.HasPrefix(s, ModeTone):
		hz, err := strconv.ParseFloat(strings.TrimPrefix(s, ModeTone), 64)
		if err != nil || !(hz >= 1 && hz < wire.SampleRate/2) {
			return 0, fmt.Errorf("%s: the tone frequency must be 1-%d Hz", wire.Quote(s), wire.SampleRate/2-1)
		}
		return hz, nil
	}
	return 0, fmt.Errorf("%s is not echo or tone:<hz>", wire.Quote(s))
}

// NewSimulated returns a simulated trunk configured by cfg. A nil log
// means slog.Default().
func NewSimulated(cfg SimulatedConfig, log *slog.Logger) (*Simulated, error) {
	hz, err := ParseMode(cfg.Mode)
	if err != nil {
		return nil, fmt.Errorf("simulated trunk: %w", err)
	}
	if cfg.AnswerDelay < 0 {
		return nil, fmt.Errorf("simulated trunk: negative answer delay %v", cfg.AnswerDelay)
	}
	if log == nil {
		log = slog.Default()
	}
	t := &Simulated{
		log:    log.With("component", "simulated-trunk"),
		delay:  cfg.AnswerDelay,
		toneHz: hz,
		busy:   make(map[string]bool, len(cfg.Busy)),
		calls:  make(map[string]*simCall),
	}
	for _, n := range cfg.Busy {
		t.busy[n] = true
	}
	return t, nil
}

// Dial implements Trunk.
func (t *Simulated) Dial(d Dial) (Call, error) {
	if d.Audio == nil || d.Progress == nil {
		return nil, fmt.Errorf("simulated trunk: dial %s: missing Audio or Progress", d.CallID)
	}
	t.log.Info("SIMULATED PSTN call: no real phone is dialled", "callId", d.CallID, "account", d.Account, "to", d.To)
	c := &simCall{t: t, d: d, quit: make(chan struct{}), st: endpoint.NewStamper()}
	t.mu.Lock()
	t.calls[d.CallID] = c
	t.order = append(t.order, d.CallID)
	if len(t.order) > simKeepCalls {
		delete(t.calls, t.order[0])
		t.order = t.order[1:]
	}
	t.mu.Unlock()
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		c.run()
	}()
	return c, nil
}

// Received returns (a copy of) the last 10 s of audio the far end of callID
// heard, oldest first; nil for an unknown call. Recordings outlive their
// calls (the last 64 are kept).
func (t *Simulated) Received(callID string) []int16 {
	t.mu.Lock()
	c := t.calls[callID]
	t.mu.Unlock()
	if c == nil {
		return nil
	}
	return c.recording()
}

// Digits returns the DTMF digits the far end of callID received.
func (t *Simulated) Digits(callID string) string {
	t.mu.Lock()
	c := t.calls[callID]
	t.mu.Unlock()
	if c == nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.digits)
}

// Wait blocks until every call's goroutines have ended (after Hangup).
func (t *Simulated) Wait() { t.wg.Wait() }

func (t *Simulated) spawn(f func()) bool {
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		f()
	}()
	return true
}

// simCall is one simulated outbound call.
type simCall struct {
	t        *Simulated
	d        Dial
	quit     chan struct{}
	quitOnce sync.Once
	answered atomic.Bool
	resync   atomic.Bool
	st       endpoint.Stamper // echo; the caller's reader goroutine only

	mu     sync.Mutex
	tone   *endpoint.Player // tone mode, once answered
	held   bool
	ended  bool
	rec    []int16 // ring buffer of heard audio
	recPos int
	digits []byte
}

func (c *simCall) run() {
	if c.t.busy[c.d.To] {
		c.d.Progress(Event{Kind: Failed, Code: wire.CodeBusy, Message: "the number is busy (simulated trunk)"})
		return
	}
	c.d.Progress(Event{Kind: Ringing})
	timer := time.NewTimer(c.t.delay)
	select {
	case <-c.quit:
		timer.Stop()
		return
	case <-timer.C:
	}
	c.answered.Store(true)
	c.d.Progress(Event{Kind: Answered})
	if c.t.toneHz == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ended {
		c.tone = endpoint.StartPlayer(c.t.spawn, c.d.Audio, endpoint.Loop{Src: &dsp.Tone{Freq: c.t.toneHz, Amplitude: 0.5}})
		if c.held {
			c.tone.Pause(true)
		}
	}
}

// SendAudioRaw records what the far end hears and, in echo mode, sends it
// back re-stamped. raw is ours (see endpoint.AudioSink), so it is re-stamped in place.
func (c *simCall) SendAudioRaw(raw []byte) bool {
	if !c.answered.Load() {
		return false
	}
	c.record(raw[wire.AudioHeaderSize:])
	if c.t.toneHz != 0 {
		return true
	}
	now := time.Now()
	if c.resync.Swap(false) {
		c.st.Resync(now)
	}
	c.st.Stamp(raw, now)
	return c.d.Audio.SendAudioRaw(raw)
}

func (c *simCall) record(payload []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 0; i+1 < len(payload); i += 2 {
		s := int16(binary.LittleEndian.Uint16(payload[i:]))
		if len(c.rec) < simRecordSamples {
			c.rec = append(c.rec, s)
			continue
		}
		c.rec[c.recPos] = s
		c.recPos = (c.recPos + 1) % simRecordSamples
	}
}

func (c *simCall) recording() []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]int16, 0, len(c.rec))
	out = append(out, c.rec[c.recPos:]...)
	return append(out, c.rec[:c.recPos]...)
}

// SendDTMF records the digit.
func (c *simCall) SendDTMF(d byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.digits) < simMaxDigits {
		c.digits = append(c.digits, d)
	}
}

// Hold pauses the far end's tone; in echo mode nothing arrives to echo while
// held, and the first frame after resuming is marked.
func (c *simCall) Hold(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = on
	if c.tone != nil {
		c.tone.Pause(on)
	}
	if !on {
		c.resync.Store(true)
	}
}

// Hangup ends the call.
func (c *simCall) Hangup() {
	c.quitOnce.Do(func() { close(c.quit) })
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended = true
	c.tone.Stop()
}

var _ Trunk = (*Simulated)(nil)
