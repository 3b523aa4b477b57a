package platform

// What the iOS glue's Objective-C side tells Go (through ios_objc.go's
// exports), and how it reaches the SDK: the VoIP push decision made before
// CallKit is told, CallKit's answers and actions, the audio session, the
// VoIP token, permission answers; then the ordered delivery to the SDK.
// iosphone.go is the Platform these serve.

import (
	"encoding/hex"
	"strings"

	"github.com/onecxi/phone/wire"
)

// What the Objective-C side calls (through ios_objc.go's exports). Each
// runs on the main queue and returns at once: it takes the lock only for
// bookkeeping and queues what the app must hear.

// incomingPush decides what to report to CallKit for a VoIP push, from the
// payload alone: called in PushKit's delegate callback, before anything
// else. The push reaches the SDK once CallKit has taken the call
// (incomingReported).
func (p *iosPhone) incomingPush(payload []byte) pushReport {
	vp, err := parseVoIPPush(payload)
	p.mu.Lock()
	defer p.mu.Unlock()
	var c *ckCall
	if err == nil && vp.callID != "" {
		c = p.table.byKey[vp.callID]
	}
	var r pushReport
	switch {
	case err != nil:
		// Reported anyway, or iOS kills the app, and ended at once.
		p.cfg.logger.Warn("platform: ios VoIP push not readable; reporting it to CallKit and ending it", "err", err)
		r = pushReport{handle: "Unknown", end: true, reason: endFailed}
	case vp.end && c != nil && c.live():
		// The caller gave up, or another device answered: the call is
		// reported again (CallKit asks for a report per push) and ended.
		r = pushReport{uuid: c.uuid, handle: vp.handle, name: vp.name, end: true, reason: endRemoteEnded, push: &vp}
	case vp.end:
		// A call this process never rang: reported under a new UUID and
		// ended at once; the SDK still hears of it (its pending call, from
		// the events connection, stops ringing).
		r = pushReport{handle: vp.handle, name: vp.name, end: true, reason: endRemoteEnded, push: &vp}
	case c != nil && !c.live():
		// A repeat of a call already over: reported and ended at once,
		// and the SDK, which has seen it end, is not told.
		c = nil
		r = pushReport{handle: vp.handle, name: vp.name, end: true, reason: endFailed}
	default:
		// A new call, or the same call pushed again (the same UUID:
		// CallKit refuses the repeat, which is the point: one call on
		// screen).
		r = pushReport{handle: vp.handle, name: vp.name, push: &vp}
	}
	if r.handle == "" {
		r.handle = "Unknown"
	}
	if c == nil {
		key := ""
		if err == nil && !r.end {
			key = vp.callID
		}
		c = newCKCall(newCallUUID(), key, true)
		p.table.add(c)
	}
	r.uuid = c.uuid
	c.reports = append(c.reports, r)
	return r
}

// incomingReported is CallKit's answer to reporting a call (a push's, or
// ShowIncomingCall's): errText is "" or what CallKit refused it for (Do
// Not Disturb, the block list, a UUID it already has). A push's data goes
// to the SDK only once CallKit has taken the call.
func (p *iosPhone) incomingReported(uuid, errText string) {
	p.mu.Lock()
	c := p.table.byUUID[uuid]
	if c == nil {
		p.mu.Unlock()
		p.cfg.logger.Warn("platform: ios CallKit answered a report for an unknown call", "uuid", uuid)
		return
	}
	var r pushReport
	if len(c.reports) > 0 {
		r = c.reports[0]
		c.reports = c.reports[1:]
	}
	refused := errText != "" && c.state == stateReporting // a repeat's refusal is expected
	switch {
	case refused || r.end: // the Objective-C side has ended it already
		c.end()
	case c.state == stateReporting:
		c.state = stateRinging
	}
	key := c.key
	p.mu.Unlock()
	if refused {
		p.cfg.logger.Warn("platform: ios CallKit refused the incoming call", "call_id", wire.Quote(key), "err", wire.Quote(errText))
		if key != "" {
			p.calls.dismiss(key)
		}
		if !r.end {
			return // the SDK would show a call CallKit will not
		}
	}
	if r.push != nil {
		p.queue("incoming push", iosEvent{push: &iosPushEvent{uuid: uuid, push: *r.push}})
	}
}

// outgoingRefused is CXCallController refusing a CXStartCallAction (for
// example while a cellular call is on hold).
func (p *iosPhone) outgoingRefused(uuid, errText string) {
	p.mu.Lock()
	c := p.table.byUUID[uuid]
	if c != nil {
		c.end()
	}
	p.mu.Unlock()
	p.cfg.logger.Warn("platform: ios CallKit refused the outgoing call", "uuid", uuid, "err", wire.Quote(errText))
}

// providerAction is a CXProvider action on call uuid; on and digits are
// the mute, hold and DTMF actions' values. It reports whether the action
// is to be fulfilled (true) or failed: an action for a call Go does not
// know, or that is in no state for it, fails.
func (p *iosPhone) providerAction(kind providerKind, uuid string, on bool, digits string) bool {
	if kind == kindReset {
		p.reset()
		return true
	}
	p.mu.Lock()
	c := p.table.byUUID[uuid]
	if c == nil || !c.live() {
		p.mu.Unlock()
		p.cfg.logger.Info("platform: ios CallKit action for a call not in progress", "action", kind, "uuid", uuid)
		return false
	}
	var a CallAction
	ok := true
	switch kind {
	case kindAnswer:
		ok = c.incoming && c.state == stateRinging
		if ok {
			c.state = stateActive
			a = CallAction{Action: ActionAccept, CallID: c.key}
		}
	case kindEnd:
		if c.incoming && c.state != stateActive {
			a = CallAction{Action: ActionDecline, CallID: c.key}
		} else {
			a = CallAction{Action: ActionHangup, CallID: c.key}
		}
		c.end()
	case kindMute, kindHold:
		ok = c.state == stateActive
		a = CallAction{Action: ActionMute, CallID: c.key, On: on}
		if kind == kindHold {
			a.Action = ActionHold
		}
	case kindDTMF:
		ok = c.state == stateActive && validDigits(digits)
		a = CallAction{Action: ActionDTMF, CallID: c.key, Digits: digits}
	case kindStart:
		ok = !c.incoming && c.state == stateReporting
		if ok {
			c.state = stateActive
		}
		p.mu.Unlock()
		return ok
	default:
		ok = false
	}
	p.mu.Unlock()
	if !ok {
		p.cfg.logger.Info("platform: ios CallKit action refused", "action", kind, "call_id", wire.Quote(a.CallID))
		return false
	}
	if a.CallID == "" && a.Action == ActionDecline {
		return true // a call the SDK never showed: nothing to decline
	}
	p.queue("call action", iosEvent{action: &a})
	return true
}

// reset is providerDidReset: CallKit dropped every call. The call in
// progress is hung up, ringing ones declined.
func (p *iosPhone) reset() {
	p.mu.Lock()
	var acts []CallAction
	for _, c := range p.table.liveCalls() {
		switch {
		case c.state == stateActive || !c.incoming:
			acts = append(acts, CallAction{Action: ActionHangup, CallID: c.key})
		case c.key != "":
			acts = append(acts, CallAction{Action: ActionDecline, CallID: c.key})
		}
		c.end()
	}
	p.mu.Unlock()
	p.cfg.logger.Warn("platform: ios CallKit reset its provider; every call ended", "calls", len(acts))
	for i := range acts {
		p.queue("call action", iosEvent{action: &acts[i]})
	}
}

// audioSession is provider:didActivateAudioSession: (true) or
// provider:didDeactivateAudioSession: (false).
func (p *iosPhone) audioSession(active bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if active {
		if !p.audioActiveLocked() {
			close(p.audioOn)
		}
		return
	}
	p.audioOffLocked()
}

// audioActiveLocked reports whether CallKit has the audio session active
// (audioOn is closed). Callers hold p.mu.
func (p *iosPhone) audioActiveLocked() bool {
	select {
	case <-p.audioOn:
		return true
	default:
		return false
	}
}

// audioOffLocked marks the audio session inactive: the next call waits for
// CallKit to activate it again. Callers hold p.mu.
func (p *iosPhone) audioOffLocked() {
	if p.audioActiveLocked() {
		p.audioOn = make(chan struct{})
	}
}

// voipToken is PushKit's token (raw bytes), or nil when PushKit
// invalidated it. A new token is queued for the SDK, which registers the
// device again with it.
func (p *iosPhone) voipToken(raw []byte) {
	if len(raw) > maxVoIPTokenBytes {
		p.cfg.logger.Warn("platform: ios dropping a VoIP token longer than APNs tokens", "bytes", len(raw))
		return
	}
	tok := hex.EncodeToString(raw)
	p.mu.Lock()
	changed := tok != p.token
	p.token = tok
	select {
	case <-p.tokenReady:
	default:
		close(p.tokenReady)
	}
	p.mu.Unlock()
	if changed && tok != "" {
		p.queue("VoIP token", iosEvent{token: &tok})
	}
}

// maxVoIPTokenBytes bounds a VoIP token: what the server takes as hex
// (wire.MaxAPNsTokenHex). PushKit's tokens are 32 bytes.
const maxVoIPTokenBytes = wire.MaxAPNsTokenHex / 2

// permissionAnswer is the answer to a permission request or check.
func (p *iosPhone) permissionAnswer(code int32, granted bool) {
	p.answers.permissionsResult(code, granted)
}

// queue hands ev to the delivery goroutine; a full queue drops it (logged).
func (p *iosPhone) queue(what string, ev iosEvent) {
	if !p.events.push(ev) {
		p.cfg.logger.Warn("platform: ios too many events waiting for the SDK; dropped", "event", what)
	}
}

// deliver hands one event to the app, on the queue's goroutine.
func (p *iosPhone) deliver(ev iosEvent) {
	switch {
	case ev.push != nil:
		p.deliverPush(ev.push)
	case ev.action != nil && (ev.action.Action == ActionAccept || ev.action.Action == ActionDecline):
		if !p.calls.respond(ev.action.CallID, ev.action.Action) {
			p.cfg.logger.Info("platform: ios a CallKit answer was not delivered",
				"call_id", wire.Quote(ev.action.CallID), "action", ev.action.Action)
		}
	case ev.action != nil:
		p.calls.inCall(*ev.action)
	case ev.token != nil:
		if h := p.pushHandlers().TokenChanged; h != nil {
			h(TokenVoIP, *ev.token)
		}
	}
}

// deliverPush hands a push to the SDK and then ends its call on CallKit's
// screen if the SDK did not show it (stale, for another number, or
// refused): nothing is left ringing that nobody will answer.
func (p *iosPhone) deliverPush(ev *iosPushEvent) {
	p.mu.Lock()
	p.delivering = ev.uuid
	h := p.push.Incoming
	p.mu.Unlock()
	if h != nil {
		h(ev.push.data)
	} else {
		p.cfg.logger.Warn("platform: ios no push handler set; VoIP push dropped")
	}
	p.mu.Lock()
	p.delivering = ""
	c := p.table.byUUID[ev.uuid]
	orphan := !ev.push.end && c != nil && c.live() && !c.claimed && c.state != stateActive
	if orphan {
		c.end()
	}
	p.mu.Unlock()
	if orphan {
		p.cfg.logger.Info("platform: ios the SDK did not take the pushed call; ending it on CallKit's screen",
			"call_id", wire.Quote(ev.push.callID))
		p.bridge.endCall(ev.uuid, endFailed)
	}
}

// validDigits reports whether s is one or more DTMF keys (0-9, *, #), as
// CXPlayDTMFCallAction carries them.
func validDigits(s string) bool {
	return s != "" && len(s) <= maxDTMFDigits && strings.Trim(s, "0123456789*#") == ""
}

// maxDTMFDigits bounds one CXPlayDTMFCallAction: a keypad press is one
// digit, a pasted number a few dozen.
const maxDTMFDigits = 64
