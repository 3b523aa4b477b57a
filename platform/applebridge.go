package platform

// The iOS glue's Objective-C side as Go sees it, and the CallKit calls Go
// keeps track of. Like jbridge.go for Android, this builds everywhere so
// that the logic (iosphone.go) is tested on every host with a fake bridge;
// ios_objc.go (ios, cgo) is the real bridge over ios_glue.m.

import (
	"crypto/rand"
	"fmt"
)

// appleBridge is what Go asks of the Objective-C side (ios_glue.m). Every
// method returns at once: the work is dispatched to the main queue, where
// CallKit, PushKit and AVAudioSession are driven, and answers that take
// time come back through the iosPhone methods named. Implementations are
// safe for concurrent use.
type appleBridge interface {
	// start creates the CXProvider and the PKPushRegistry, once per
	// process: the VoIP token and pushes arrive only after it.
	start()
	// recordPermission is AVAudioSession's recordPermission, now.
	recordPermission() micPermission
	// requestRecordPermission asks for the microphone; the answer comes
	// to iosPhone.permissionAnswer(code, granted).
	requestRecordPermission(code int32)
	// notificationPermission reads UNUserNotificationCenter's settings;
	// the answer (authorized or provisional) comes to permissionAnswer.
	notificationPermission(code int32)
	// requestNotificationPermission asks for alerts, sounds and badges;
	// the answer comes to permissionAnswer.
	requestNotificationPermission(code int32)
	// reportIncomingCall reports a call that did not come by VoIP push
	// (the events connection) to CallKit; CallKit's answer comes to
	// iosPhone.incomingReported.
	reportIncomingCall(uuid string, d callDisplay)
	// updateCall changes what CallKit shows for a call it knows.
	updateCall(uuid string, d callDisplay)
	// endCall tells CallKit the call ended for reason
	// (reportCallWithUUID:endedAtDate:reason:).
	endCall(uuid string, reason endReason)
	// startOutgoingCall asks CXCallController for a CXStartCallAction;
	// CallKit performs it (iosPhone.providerAction, kindStart) or refuses
	// (iosPhone.outgoingRefused).
	startOutgoingCall(uuid, handle string)
	// outgoingConnected reports the outgoing call connected.
	outgoingConnected(uuid string)
	// setSpeaker overrides the output to the loudspeaker (on) or back to
	// the route the session chooses; "" or "<kind>: <message>"
	// (nativeResult).
	setSpeaker(on bool) string
}

// callDisplay is what CallKit's call screen and Recents show.
type callDisplay struct {
	handle string // the caller's number: CXHandle (generic)
	name   string // localizedCallerName; "" shows the handle
}

// micPermission is AVAudioSessionRecordPermission.
type micPermission int

const (
	micUndetermined micPermission = iota
	micDenied
	micGranted
)

// endReason is CXCallEndedReason, as the Objective-C side passes it on.
type endReason int

// The values are Apple's (CXCallEndedReason in CXError.h).
const (
	endFailed            endReason = 1
	endRemoteEnded       endReason = 2
	endUnanswered        endReason = 3
	endAnsweredElsewhere endReason = 4
	endDeclinedElsewhere endReason = 5
)

// providerKind is the CXProvider delegate callback that reached Go.
type providerKind int

// The kinds, as ios_glue.h numbers them for the Objective-C side.
const (
	kindAnswer providerKind = iota + 1 // provider:performAnswerCallAction:
	kindEnd                            // provider:performEndCallAction:
	kindMute                           // provider:performSetMutedCallAction:
	kindHold                           // provider:performSetHeldCallAction:
	kindDTMF                           // provider:performPlayDTMFCallAction:
	kindStart                          // provider:performStartCallAction:
	kindReset                          // providerDidReset:
)

func (k providerKind) String() string {
	switch k {
	case kindAnswer:
		return "answer"
	case kindEnd:
		return "end"
	case kindMute:
		return "mute"
	case kindHold:
		return "hold"
	case kindDTMF:
		return "dtmf"
	case kindStart:
		return "start"
	case kindReset:
		return "reset"
	}
	return fmt.Sprintf("providerKind(%d)", int(k))
}

// callState is where a CallKit call is.
type callState int

const (
	stateReporting callState = iota // reported, CallKit has not answered yet
	stateRinging                    // CallKit shows it ringing
	stateActive                     // answered, or an outgoing call CallKit started
	stateEnded                      // over; kept a while so late pushes for it end at once
)

// ckCall is a call CallKit knows about.
type ckCall struct {
	uuid     string
	key      string // the SDK's CallID for it; "" until known
	incoming bool
	state    callState
	claimed  bool          // the SDK showed it (ShowIncomingCall)
	reports  []pushReport  // reports of pushes for it, waiting for CallKit's answer, in order
	ended    chan struct{} // closed when state becomes stateEnded
}

func newCKCall(uuid, key string, incoming bool) *ckCall {
	return &ckCall{uuid: uuid, key: key, incoming: incoming, ended: make(chan struct{})}
}

// live reports whether the call is not over.
func (c *ckCall) live() bool { return c.state != stateEnded }

// end moves the call to stateEnded and reports whether it was live.
func (c *ckCall) end() bool {
	if c.state == stateEnded {
		return false
	}
	c.state = stateEnded
	close(c.ended)
	return true
}

// maxEndedCalls bounds the ended calls kept: enough to recognize a late
// or repeated push for a recent call, little memory.
const maxEndedCalls = 64

// callTable indexes the CallKit calls by UUID and by the SDK's key. Not
// safe for concurrent use: iosPhone's mutex guards it.
type callTable struct {
	byUUID map[string]*ckCall
	byKey  map[string]*ckCall
	order  []string // UUIDs, oldest first, for pruning ended calls
}

func newCallTable() *callTable {
	return &callTable{byUUID: make(map[string]*ckCall), byKey: make(map[string]*ckCall)}
}

// add records c, forgetting the oldest ended calls beyond maxEndedCalls.
func (t *callTable) add(c *ckCall) {
	t.byUUID[c.uuid] = c
	if c.key != "" {
		t.byKey[c.key] = c
	}
	t.order = append(t.order, c.uuid)
	ended := 0
	for _, u := range t.order {
		if !t.byUUID[u].live() {
			ended++
		}
	}
	kept := t.order[:0]
	for _, u := range t.order {
		c := t.byUUID[u]
		if ended > maxEndedCalls && !c.live() {
			ended--
			delete(t.byUUID, u)
			if t.byKey[c.key] == c {
				delete(t.byKey, c.key)
			}
			continue
		}
		kept = append(kept, u)
	}
	t.order = kept
}

// setKey gives c the SDK's key.
func (t *callTable) setKey(c *ckCall, key string) {
	c.key = key
	t.byKey[key] = c
}

// current is the call in progress: an answered incoming call or an
// outgoing one, live; nil when there is none.
func (t *callTable) current() *ckCall {
	for i := len(t.order) - 1; i >= 0; i-- {
		c := t.byUUID[t.order[i]]
		if c.live() && (c.state == stateActive || !c.incoming) {
			return c
		}
	}
	return nil
}

// liveCalls lists the calls not over, oldest first.
func (t *callTable) liveCalls() []*ckCall {
	var cs []*ckCall
	for _, u := range t.order {
		if c := t.byUUID[u]; c.live() {
			cs = append(cs, c)
		}
	}
	return cs
}

// newCallUUID returns a random (version 4) UUID in NSUUID's text form.
// CallKit needs one per call; the SDK's own UUID for a call is not used,
// because a push without a callId cannot be matched to it before the SDK
// has read the push.
func newCallUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // never fails (crypto/rand)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}
