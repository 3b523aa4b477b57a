package platform

// iosPhone is the Platform for iOS over the Objective-C glue
// (appleBridge): CallKit shows every call, PushKit brings the VoIP token
// and the pushes, AVAudioSession carries the audio. It builds everywhere
// so that it is tested on every host with a fake bridge; ios.go makes it
// the platform of an iOS build. What the Objective-C side calls in with,
// and the delivery to the SDK, are in iosevents.go.
//
// The rules it keeps, and why:
//   - Every VoIP push is reported to CallKit before anything else happens
//     (incomingPush answers the Objective-C side at once, from the payload
//     alone): iOS 13+ kills an app that receives a VoIP push and does not
//     report a call. A push that ends a call, a push for a call already
//     over, and a push that cannot be read are reported too, and ended
//     at once. Only when CallKit has taken the call does the SDK get the
//     push (and with it any network work).
//   - A reported call the SDK does not show (a stale push, one for
//     another number) is ended as soon as the SDK has had the push, so
//     nothing rings that nobody will answer.
//   - CallKit's answer, end, mute, hold and keypad become CallActions for
//     the SDK (accept, decline or hangup, mute, hold, dtmf), delivered in
//     the order CallKit performed them, after the push they belong to,
//     never on the main thread and never under a lock.
//   - The call's audio starts only once CallKit has activated the audio
//     session (StartForegroundService waits for
//     provider:didActivateAudioSession:); started earlier, a call answered
//     from the lock screen has no audio.

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/onecxi/phone/wire"
)

// audioActivationTimeout bounds StartForegroundService's wait for CallKit
// to activate the audio session: CallKit does within a second; after this
// the call goes on and its audio may stay silent (logged by the SDK).
const audioActivationTimeout = 5 * time.Second

// iosEvent is something the Objective-C side told Go, queued for delivery
// in order. Exactly one field is set.
type iosEvent struct {
	push   *iosPushEvent
	action *CallAction
	token  *string
}

// iosPushEvent is a push CallKit has taken, for the SDK.
type iosPushEvent struct {
	uuid string
	push voipPush
}

// pushReport is what the Objective-C side reports to CallKit for a VoIP
// push, before anything else: reportNewIncomingCallWithUUID with the
// handle and name, and, when end is set, the call ended right after.
type pushReport struct {
	uuid   string
	handle string
	name   string
	end    bool
	reason endReason // why it ends, when end is set
	push   *voipPush // for the SDK once CallKit has the call; nil: nothing
}

type iosPhone struct {
	cfg     config
	calls   *callBook
	bridge  appleBridge // nil: no glue in this build; noGlue says why
	noGlue  error
	answers *nativeInbox // permission answers, by request code
	events  eventQueue[iosEvent]

	routeMu sync.Mutex // held across route changes, so they apply in order
	route   Route

	mu         sync.Mutex // guards what follows; never held while calling out
	table      *callTable
	delivering string        // the UUID of the push being handed to the SDK
	token      string        // the VoIP token, hex; "" until PushKit gives one
	tokenReady chan struct{} // closed once token is set
	audioOn    chan struct{} // closed while CallKit has the audio session active
	push       PushHandlers
}

var (
	_ Platform   = (*iosPhone)(nil)
	_ PushSource = (*iosPhone)(nil)
)

// newIOSPhone returns the platform over bridge b (nil: none, for the
// reason why) and starts the bridge's CallKit provider and push registry;
// receive, if set, is handed the platform first: the bridge may call back
// as soon as it starts (a push that launched the app, the VoIP token).
func newIOSPhone(cfg config, b appleBridge, why error, receive func(*iosPhone)) *iosPhone {
	in := newNativeInbox()
	in.log = cfg.logger
	p := &iosPhone{
		cfg: cfg, calls: newCallBook(cfg.logger), bridge: b, noGlue: why, answers: in,
		table: newCallTable(), tokenReady: make(chan struct{}), audioOn: make(chan struct{}),
	}
	if b != nil {
		if receive != nil {
			receive(p)
		}
		b.start()
	}
	return p
}

func (p *iosPhone) unsupported(what string) error {
	return fmt.Errorf("platform: ios %s: %w", what, p.noGlue)
}

// Name returns "ios".
func (p *iosPhone) Name() string { return "ios" }

// CheckPermissions reports whether the microphone is granted and
// notifications are allowed.
func (p *iosPhone) CheckPermissions(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if p.bridge == nil {
		return false, p.unsupported("permission check")
	}
	if p.bridge.recordPermission() != micGranted {
		return false, nil
	}
	return p.ask(ctx, "notification settings", p.bridge.notificationPermission)
}

// RequestPermissions asks for the microphone, then for notifications
// (each dialog shows once; later the answer is the stored one), and
// reports whether both are granted.
func (p *iosPhone) RequestPermissions(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if p.bridge == nil {
		return false, p.unsupported("permission request")
	}
	mic, err := p.ask(ctx, "microphone permission", p.bridge.requestRecordPermission)
	if err != nil {
		return false, err
	}
	notes, err := p.ask(ctx, "notification permission", p.bridge.requestNotificationPermission)
	if err != nil {
		return false, err
	}
	return mic && notes, nil
}

// ask sends a request the Objective-C side answers later (permissionAnswer)
// and waits for the answer or for ctx to end.
func (p *iosPhone) ask(ctx context.Context, what string, send func(code int32)) (bool, error) {
	code, answer, err := p.answers.expect()
	if err != nil {
		return false, err
	}
	defer p.answers.forget(code)
	send(code)
	select {
	case a := <-answer:
		return a.granted, nil
	case <-ctx.Done():
		return false, fmt.Errorf("platform: ios %s: waiting for the answer: %w", what, ctx.Err())
	}
}

// PushToken returns the PushKit VoIP token as hex, waiting for PushKit (or
// for ctx to end). TokenFCM is Android's: "".
func (p *iosPhone) PushToken(ctx context.Context, kind TokenKind) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if kind != TokenVoIP {
		return "", nil
	}
	if p.bridge == nil {
		return "", p.unsupported("VoIP push token")
	}
	p.mu.Lock()
	ready := p.tokenReady
	p.mu.Unlock()
	select {
	case <-ready:
	case <-ctx.Done():
		return "", fmt.Errorf("platform: ios VoIP push token: waiting for PushKit: %w", ctx.Err())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.token == "" {
		return "", fmt.Errorf("platform: ios VoIP push token: PushKit invalidated it: %w", ErrNativeFailed)
	}
	return p.token, nil
}

// ShowIncomingCall shows the call on CallKit's screen: a call a VoIP push
// already reported is updated with what the SDK read from it (and so
// claimed); another one (from the events connection) is reported now.
// Without the glue only the app's own screen (WithIncomingUI) can show it.
func (p *iosPhone) ShowIncomingCall(ctx context.Context, call IncomingCall) error {
	if err := checkCall(ctx, call); err != nil {
		return err
	}
	if p.bridge == nil {
		return p.showInApp(call)
	}
	d := callDisplay{handle: call.Handle, name: call.CallerName}
	p.mu.Lock()
	c := p.table.byKey[call.CallID]
	if c == nil && p.delivering != "" {
		// The push being handed to the SDK had no callId: this is its call.
		if dc := p.table.byUUID[p.delivering]; dc != nil && dc.key == "" && dc.live() {
			c = dc
			p.table.setKey(c, call.CallID)
		}
	}
	switch {
	case c != nil && c.live():
		c.claimed = true
		p.mu.Unlock()
		p.calls.show(call)
		p.bridge.updateCall(c.uuid, d)
		return nil
	case c != nil:
		p.mu.Unlock()
		return fmt.Errorf("platform: ios incoming call %s has ended on CallKit's screen already: %w", wire.Quote(call.CallID), ErrNotAllowed)
	}
	c = newCKCall(newCallUUID(), call.CallID, true)
	c.claimed = true
	p.table.add(c)
	p.mu.Unlock()
	p.calls.show(call)
	p.bridge.reportIncomingCall(c.uuid, d)
	return nil
}

// showInApp is ShowIncomingCall without the glue: the app's screen, and a
// WithNotifier notification for a call not already showing.
func (p *iosPhone) showInApp(call IncomingCall) error {
	return showInApp(p.cfg, p.calls, call, p.unsupported("CallKit incoming-call screen"))
}

// DismissIncomingCall forgets the call, so a later answer is ignored, and
// ends it on CallKit's screen if it is still ringing there (the caller gave
// up, another device answered). A call answered through CallKit stays.
func (p *iosPhone) DismissIncomingCall(ctx context.Context, callID string) error {
	p.calls.dismiss(callID)
	if p.bridge == nil {
		return nil
	}
	p.mu.Lock()
	c := p.table.byKey[callID]
	ringing := c != nil && c.incoming && (c.state == stateRinging || c.state == stateReporting)
	if ringing {
		c.end()
	}
	p.mu.Unlock()
	if ringing {
		p.bridge.endCall(c.uuid, endRemoteEnded)
	}
	return nil
}

// SetCallActionHandler sets the receiver of CallKit's actions; the latest
// one wins.
func (p *iosPhone) SetCallActionHandler(h func(CallAction)) { p.calls.setHandler(h) }

// SetPushHandlers sets the receivers of VoIP pushes and new VoIP tokens.
// What the Objective-C side reports waits (up to 64 events) while
// Incoming is nil, CallKit's actions included, so that an action never
// overtakes the push of its call: the SDK sets the handlers when it is
// made, and a push that launched the app is delivered then.
func (p *iosPhone) SetPushHandlers(h PushHandlers) {
	p.mu.Lock()
	p.push = h
	p.mu.Unlock()
	if h.Incoming != nil {
		p.events.setHandler(p.deliver)
	} else {
		p.events.setHandler(nil)
	}
}

func (p *iosPhone) pushHandlers() PushHandlers {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.push
}

// StartForegroundService makes sure CallKit knows the call in progress (an
// answered incoming call does; for any other call a CXStartCallAction is
// requested, handle as its number) and waits until CallKit has activated
// the audio session, so that the SDK starts the call's audio only then.
func (p *iosPhone) StartForegroundService(ctx context.Context, handle string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.bridge == nil {
		return p.unsupported("CallKit audio session")
	}
	p.mu.Lock()
	c := p.table.current()
	start := c == nil
	if start {
		c = newCKCall(newCallUUID(), "", false)
		p.table.add(c)
	}
	audio, ended := p.audioOn, c.ended
	p.mu.Unlock()
	if start {
		p.bridge.startOutgoingCall(c.uuid, handle)
	}
	wait := time.NewTimer(audioActivationTimeout)
	defer wait.Stop()
	select {
	case <-audio:
	case <-ended:
		return fmt.Errorf("platform: ios call ended before CallKit activated the audio session: %w", ErrNotAllowed)
	case <-wait.C:
		return fmt.Errorf("platform: ios CallKit did not activate the audio session within %v: %w", audioActivationTimeout, ErrNativeFailed)
	case <-ctx.Done():
		return fmt.Errorf("platform: ios waiting for CallKit to activate the audio session: %w", ctx.Err())
	}
	if start {
		p.bridge.outgoingConnected(c.uuid)
	}
	return nil
}

// StopForegroundService tells CallKit the call in progress ended (unless
// CallKit ended it), which also lets it deactivate the audio session.
func (p *iosPhone) StopForegroundService(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.bridge == nil {
		return p.unsupported("CallKit audio session")
	}
	p.mu.Lock()
	c := p.table.current()
	if c != nil {
		c.end()
		// CallKit deactivates the session some time after the end: a call
		// started meanwhile must not take the old activation for its own.
		p.audioOffLocked()
	}
	p.mu.Unlock()
	if c != nil {
		p.bridge.endCall(c.uuid, endRemoteEnded)
	}
	return nil
}

// SetAudioRoute switches call audio between earpiece and loudspeaker by
// overriding AVAudioSession's output port. With the glue a
// WithRouteHandler handler is not called: the session's route is the one
// that counts.
func (p *iosPhone) SetAudioRoute(ctx context.Context, r Route) error {
	p.routeMu.Lock()
	defer p.routeMu.Unlock()
	h := p.cfg.routeHandler
	if p.bridge != nil {
		h = func(r Route) error { return nativeResult("setSpeaker", p.bridge.setSpeaker(r == RouteSpeaker)) }
	}
	if err := setRoute(ctx, h, r); err != nil {
		return err
	}
	if h == nil {
		return p.unsupported("audio routing")
	}
	p.route = r
	return nil
}

// currentRoute is the last route set successfully.
func (p *iosPhone) currentRoute() Route {
	p.routeMu.Lock()
	defer p.routeMu.Unlock()
	return p.route
}
