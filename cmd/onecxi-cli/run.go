package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/callcore/audio"
	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/wire"
)

// hangupTimeout bounds hanging up: EndCall and waiting for onCallEnded.
const hangupTimeout = 5 * time.Second

// dtmfGap is the pause between the digits of -dtmf.
const dtmfGap = 400 * time.Millisecond

// printer prints SDK events as they arrive, one line each, and tells run
// when the call starts and ends. Every line starts with the seconds since
// run began; the first line gives that instant's wall-clock time.
type printer struct {
	out     io.Writer
	began   time.Time
	started chan struct{} // closed at onCallStarted
	ended   chan struct{} // closed at onCallEnded
	failed  chan struct{} // closed at the first onCallError

	mu         sync.Mutex
	closed     bool   // run has returned: print nothing more
	failure    error  // the first onCallError
	declinedBy string // onCallDeclined's number, when declined
	declined   bool
	hungUp     bool                 // run hung up (as opposed to the far end)
	callID     string               // the last call ID printed
	quality    callcore.CallQuality // the last quality sample
}

func newPrinter(out io.Writer) *printer {
	return &printer{
		out: out, began: time.Now(),
		started: make(chan struct{}), ended: make(chan struct{}), failed: make(chan struct{}),
	}
}

// say prints one line: elapsed time, a label padded to a column, the text.
func (p *printer) say(label, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	fmt.Fprintf(p.out, "%8.3fs  %-10s %s\n", time.Since(p.began).Seconds(), label, fmt.Sprintf(format, args...))
}

// close stops all printing, so that nothing reaches out after run returns
// (a late incoming-call goroutine, say).
func (p *printer) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
}

func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}

func (p *printer) OnCallStatusChanged(s callcore.CallStatus) {
	p.mu.Lock()
	newID := s.CallID != "" && s.CallID != p.callID
	if newID {
		p.callID = s.CallID
	}
	p.mu.Unlock()
	p.say("status", "%s", describeStatus(s, newID))
}

func (p *printer) OnCallStarted(t callcore.CallType, did, reg string) {
	p.say("started", "%s call with %s as %s", t, did, reg)
	closeOnce(p.started)
}

func (p *printer) OnCallEnded(t callcore.CallType, did string) {
	p.mu.Lock()
	remote := !p.hungUp && !p.declined && p.failure == nil
	p.mu.Unlock()
	select {
	case <-p.started:
	default:
		remote = false // not answered: the reason is printed before
	}
	if remote {
		p.say("ended", "%s call with %s: the far end hung up", t, did)
	} else {
		p.say("ended", "%s call with %s", t, did)
	}
	closeOnce(p.ended)
}

func (p *printer) OnCallError(err error, t callcore.CallType) {
	p.say("error", "%v", err)
	p.mu.Lock()
	if p.failure == nil {
		p.failure = err
	}
	p.mu.Unlock()
	closeOnce(p.failed)
}

func (p *printer) OnWebSocketStatusChanged(up bool) {
	if up {
		p.say("websocket", "connected")
	} else {
		p.say("websocket", "closed")
	}
}

func (p *printer) OnCallDeclined(t callcore.CallType, from string) {
	p.say("declined", "by %s", from)
	p.mu.Lock()
	p.declined, p.declinedBy = true, from
	p.mu.Unlock()
}

// outcome is run's result once the call has ended: the first error the SDK
// reported, or that the call was declined.
func (p *printer) outcome() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failure != nil {
		return p.failure
	}
	if p.declined {
		return fmt.Errorf("the call was declined by %s", p.declinedBy)
	}
	return nil
}

// describeStatus is a status line: the state, the call ID when it is new,
// and whichever of mute, hold, remote hold, speaker and reconnecting are on.
func describeStatus(s callcore.CallStatus, withID bool) string {
	parts := []string{s.State.String()}
	if withID {
		parts = append(parts, "call "+s.CallID)
	}
	for _, f := range []struct {
		on   bool
		name string
	}{
		{s.IsMuted, "muted"},
		{s.IsOnHold, "on hold"},
		{s.IsRemoteOnHold, "held by the far end"},
		{s.IsSpeakerOn, "speaker on"},
		{s.IsReconnecting, "reconnecting"},
		{s.IsRemoteReconnecting, "far end reconnecting"},
	} {
		if f.on {
			parts = append(parts, f.name)
		}
	}
	return strings.Join(parts, ", ")
}

// device remembers the audio device the SDK opened for the call (on the
// SDK's goroutine for an answered call) and whether writing -out failed,
// which the SDK would only log.
type device struct {
	mu      sync.Mutex
	dev     *audio.FileDevice
	stopErr error
}

func (d *device) open(in, out string, answered <-chan struct{}) (audio.Device, error) {
	// Input starts at the answer, so a WAV is heard from its beginning.
	fd, err := audio.NewFileDevice(in, out, audio.WithStartGate(answered))
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.dev = fd
	d.mu.Unlock()
	return &trackedDevice{FileDevice: fd, d: d}, nil
}

// inputDone is closed when a WAV input has been played in full; nil (never
// ready) for a tone, silence or before the device is opened.
func (d *device) inputDone() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dev == nil {
		return nil
	}
	return d.dev.Done()
}

// err is the first error stopping the device (writing -out) returned.
func (d *device) err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stopErr
}

// trackedDevice is a FileDevice whose Stop error reaches run.
type trackedDevice struct {
	*audio.FileDevice
	d *device
}

func (t *trackedDevice) Stop() error {
	err := t.FileDevice.Stop()
	if err != nil {
		t.d.mu.Lock()
		if t.d.stopErr == nil {
			t.d.stopErr = err
		}
		t.d.mu.Unlock()
	}
	return err
}

// checkFiles fails fast, before anything is dialled, on an -in that cannot
// be read or an -out that cannot be written.
func checkFiles(o options) error {
	if _, err := audio.NewFileDevice(o.in, ""); err != nil {
		return fmt.Errorf("-in %s: %w", wire.QuotePath(o.in), err)
	}
	if o.out == "" {
		return nil
	}
	_, statErr := os.Stat(o.out)
	f, err := os.OpenFile(o.out, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("-out: %w", wire.QuoteError(err))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		_ = os.Remove(o.out) // the device writes it when the call ends
	}
	return nil
}

// answerer is the "user" of listen mode: it answers (or with -decline
// declines) the first incoming call and declines any other as busy. It
// calls the SDK itself rather than returning an action to the platform, so
// run learns when answering or declining has finished and how.
type answerer struct {
	ctx     context.Context
	sdk     *callcore.SDK
	p       *printer
	decline bool
	taken   atomic.Bool
	result  chan error // the first call's answer or decline outcome; buffered
}

func (a *answerer) answer(c platform.IncomingCall) platform.Action {
	from := c.Handle
	if c.CallerName != "" && c.CallerName != c.Handle {
		from += " (" + c.CallerName + ")"
	}
	typ := c.CallType
	if t, err := callcore.ParsePushCallType(c.CallType); err == nil {
		typ = t.String()
	}
	a.p.say("incoming", "%s call from %s", typ, from)
	if !a.taken.CompareAndSwap(false, true) {
		a.p.say("declining", "call from %s: busy", c.Handle)
		if err := a.sdk.DeclineIncomingCall(a.ctx, c.CallID); err != nil {
			a.p.say("error", "declining the call from %s: %v", c.Handle, err)
		}
		return platform.ActionDecline
	}
	var err error
	if a.decline {
		a.p.say("declining", "call from %s (-decline)", c.Handle)
		if err = a.sdk.DeclineIncomingCall(a.ctx, c.CallID); err == nil {
			a.p.say("declined", "call from %s; the caller has been told", c.Handle)
		}
	} else {
		a.p.say("answering", "call from %s", c.Handle)
		err = a.sdk.AcceptIncomingCall(a.ctx, c.CallID)
	}
	a.result <- err // buffered, and only the first call gets here
	// The SDK has dismissed the call, so the platform drops this action; it
	// only matters if the call was never pending, and then declining is right.
	return platform.ActionDecline
}

// run signs in, places or awaits one call, waits for it to end (the far end
// hangs up, -duration passes, a WAV input ends, or ctx is cancelled) and
// prints what happens on out. It returns nil for a call that ended normally
// and for listen mode stopped before any call; otherwise the error (a
// declined call is an error for the caller).
func run(ctx context.Context, o options, out io.Writer) error {
	if err := checkFiles(o); err != nil {
		return err
	}
	p := newPrinter(out)
	defer p.close()
	p.say("begin", "%s (times are seconds since then)", p.began.UTC().Format("2006-01-02 15:04:05.000 MST"))

	var dev device
	ans := &answerer{ctx: ctx, p: p, decline: o.decline, result: make(chan error, 1)}
	plat := platform.NewHeadless(platform.WithAutoAnswer(ans.answer))
	sdk := callcore.New(
		callcore.WithPlatform(plat),
		callcore.WithStore(callcore.NewMemoryStore()),
		callcore.WithLogger(slog.New(slog.DiscardHandler)),
		callcore.WithTLSConfig(&tls.Config{InsecureSkipVerify: o.insecure}), //nolint:gosec // opt-in flag
		callcore.WithAudioDevice(func() (audio.Device, error) { return dev.open(o.in, o.out, p.started) }),
	)
	ans.sdk = sdk
	defer disposeAndFlush(sdk) // before p.close, so the printer gets the last events
	sdk.SetCallProgressCallback(p)

	if err := sdk.Initialize(ctx, o.account, o.apiKey, o.server); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	p.say("signed in", "account %s on %s", o.account, o.server)

	if o.cmd == cmdListen {
		answered, err := listen(ctx, sdk, p, ans, o)
		if err != nil || !answered {
			return err
		}
	} else if err := place(ctx, sdk, p, o); err != nil {
		return fmt.Errorf("call: %w", err)
	}
	return inCall(ctx, sdk, p, &dev, o)
}

// disposeAndFlush disposes sdk and waits, for at most hangupTimeout, until
// the events queued by then (the call's onCallEnded among them) have been
// delivered: Dispose itself does not wait for them.
func disposeAndFlush(sdk *callcore.SDK) {
	sdk.Dispose()
	ctx, cancel := context.WithTimeout(context.Background(), hangupTimeout)
	defer cancel()
	_ = sdk.FlushCallbacks(ctx) // a printer callback never blocks for long
}

// place starts the call of an inbound, outbound or app command. It returns
// once the far end rings or answers.
func place(ctx context.Context, sdk *callcore.SDK, p *printer, o options) error {
	switch o.cmd {
	case cmdInbound:
		p.say("calling", "DID %s as %s", o.target, o.number)
		return sdk.StartInBoundCall(ctx, o.target, o.number)
	case cmdOutbound:
		p.say("calling", "phone number %s as %s", o.target, o.number)
		return sdk.StartOutBoundCall(ctx, o.target, o.number)
	case cmdApp:
		p.say("calling", "app user %s as %s", o.target, o.number)
		return sdk.StartAppToAppInboundCall(ctx, o.target, o.number)
	}
	return fmt.Errorf("unknown command %s", wire.Quote(string(o.cmd)))
}

// listen waits for one incoming call to o.number and answers or declines
// it. answered reports whether a call is now in progress.
func listen(ctx context.Context, sdk *callcore.SDK, p *printer, ans *answerer, o options) (answered bool, err error) {
	if err := sdk.ListenForIncomingCalls(ctx, o.number); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	p.say("listening", "for calls to %s (Ctrl-C to stop)", o.number)
	select {
	case err := <-ans.result:
		switch {
		case o.decline && err != nil:
			return false, fmt.Errorf("decline: %w", err)
		case o.decline:
			return false, nil
		case err != nil:
			return false, fmt.Errorf("answer: %w", err)
		}
		return true, nil
	case <-p.failed: // the events connection gave up (credentials revoked)
		return false, p.outcome()
	case <-ctx.Done():
		p.say("stopped", "listening")
		return false, nil
	}
}

// inCall follows a placed call (ringing or answered) to its end.
func inCall(ctx context.Context, sdk *callcore.SDK, p *printer, dev *device, o options) error {
	select {
	case <-p.started:
	case <-p.ended: // declined, failed or not answered
		return finish(sdk, p, dev, nil)
	case <-ctx.Done():
		return hangup(sdk, p, dev, "interrupted")
	}

	callCtx, cancel := context.WithCancel(ctx)
	var digits sync.WaitGroup
	defer digits.Wait()
	defer cancel()
	if o.dtmf != "" {
		digits.Go(func() { sendDigits(callCtx, sdk, p, o.dtmf, o.dtmfDelay) })
	}

	var limit <-chan time.Time
	if o.duration > 0 {
		t := time.NewTimer(o.duration)
		defer t.Stop()
		limit = t.C
	}
	select {
	case <-p.ended:
		return finish(sdk, p, dev, nil)
	case <-limit:
		return hangup(sdk, p, dev, fmt.Sprintf("after %v (-duration)", o.duration))
	case <-dev.inputDone():
		return hangup(sdk, p, dev, "the input WAV has been played")
	case <-ctx.Done():
		return hangup(sdk, p, dev, "interrupted")
	}
}

func sendDigits(ctx context.Context, sdk *callcore.SDK, p *printer, digits string, delay time.Duration) {
	t := time.NewTimer(delay)
	defer t.Stop()
	for i, d := range digits {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		if err := sdk.SendDTMF(string(d)); err != nil {
			p.say("dtmf", "%c failed: %v", d, err)
			return
		}
		p.say("dtmf", "sent %c", d)
		if i < len(digits)-1 {
			t.Reset(dtmfGap)
		}
	}
}

// hangup ends the call and waits for onCallEnded.
func hangup(sdk *callcore.SDK, p *printer, dev *device, why string) error {
	p.mu.Lock()
	p.hungUp = true
	p.mu.Unlock()
	p.say("hangup", "%s", why)
	ctx, cancel := context.WithTimeout(context.Background(), hangupTimeout)
	defer cancel()
	var endErr error
	// ErrNoCallInProgress: the call ended meanwhile and onCallEnded is queued.
	if err := sdk.EndCall(ctx); err != nil && !errors.Is(err, callcore.ErrNoCallInProgress) {
		endErr = fmt.Errorf("hang up: %w", err)
	}
	select {
	case <-p.ended:
	case <-ctx.Done():
		p.say("warning", "onCallEnded did not arrive within %v", hangupTimeout)
	}
	return finish(sdk, p, dev, endErr)
}

// finish prints the ended call's statistics and returns run's result: the
// call's error, else hanging up's, else writing -out's.
func finish(sdk *callcore.SDK, p *printer, dev *device, endErr error) error {
	for _, line := range formatStats(sdk.CallStats()) {
		p.say("stats", "%s", line)
	}
	if q := sdk.CallQuality(); !q.At.IsZero() {
		p.say("stats", "quality:   last sample %s", describeQuality(q))
	}
	outErr := dev.err()
	if outErr != nil {
		outErr = fmt.Errorf("-out: %w", outErr)
		p.say("error", "%v", outErr)
	}
	if err := p.outcome(); err != nil {
		return err
	}
	if endErr != nil {
		return endErr
	}
	return outErr
}

// formatStats renders a call's counters for people: who and how long, then,
// for an answered call, the audio each way and the receive jitter buffer.
func formatStats(st callcore.CallStats) []string {
	id := st.CallID
	if id == "" {
		id = "(no call ID)"
	}
	var talk string
	switch {
	case st.AnsweredAt.IsZero() && !st.EndedAt.IsZero() && !st.StartedAt.IsZero():
		talk = "not answered, ended after " + fmtDur(st.EndedAt.Sub(st.StartedAt))
	case st.AnsweredAt.IsZero():
		talk = "not answered"
	default:
		talk = fmt.Sprintf("answered after %s, talked %s", fmtDur(st.AnsweredAt.Sub(st.StartedAt)), fmtDur(st.Duration))
	}
	head := fmt.Sprintf("call %s, %s with %s: %s", id, st.CallType, st.Number, talk)
	if st.Resumes == 1 {
		head += ", resumed once"
	} else if st.Resumes > 1 {
		head += fmt.Sprintf(", resumed %d times", st.Resumes)
	}
	if st.EndReason != "" {
		head += "; ended: " + string(st.EndReason)
	}
	if st.AnsweredAt.IsZero() {
		return []string{head} // no audio flows before the answer
	}
	j := st.Jitter
	return []string{
		head,
		fmt.Sprintf("audio out: %s captured, %d sent, %d suppressed (ringing, muted, held), %d dropped (queue full)",
			frames(st.FramesCaptured), st.FramesSent, st.FramesSuppressed, st.FramesDropped),
		fmt.Sprintf("audio in:  %s received, %d played, %d discarded (ringing, held), %d malformed",
			frames(st.FramesReceived), st.FramesPlayed, st.FramesDiscarded, st.FramesMalformed),
		fmt.Sprintf("jitter:    %d lost, %d late, %d duplicate, %s concealed, %d underruns, target delay %s",
			j.Lost, j.Late, j.Duplicate, fmtDur(samplesDur(j.Concealed)), j.Underruns, fmtDur(j.TargetDelay)),
	}
}

// frames is a frame count with the audio it holds, "150 frames (3.00s)".
func frames(n uint64) string {
	return fmt.Sprintf("%d frames (%s)", n, fmtDur(time.Duration(n)*wire.FrameMillis*time.Millisecond))
}

func samplesDur(n uint64) time.Duration {
	return time.Duration(n) * time.Second / wire.SampleRate
}

// fmtDur prints durations as a person reads them: "0s", "45ms", "3.17s".
func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d < time.Second && d > -time.Second:
		return d.Round(time.Millisecond).String()
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
