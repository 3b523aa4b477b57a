//go:build ios && cgo

package platform

/*
#cgo LDFLAGS: -framework Foundation -framework AVFoundation -framework CallKit -framework PushKit -framework UserNotifications
#include <stdlib.h>
#include "ios_glue.h"
*/
import "C"

import (
	"sync/atomic"
	"unsafe"
)

// ios_glue.h numbers CallKit's actions as providerKind does: a change on
// one side that the other lacks does not compile.
const (
	_ = uint(C.ONECXI_ACTION_ANSWER-int(kindAnswer)) + uint(int(kindAnswer)-C.ONECXI_ACTION_ANSWER)
	_ = uint(C.ONECXI_ACTION_END-int(kindEnd)) + uint(int(kindEnd)-C.ONECXI_ACTION_END)
	_ = uint(C.ONECXI_ACTION_MUTE-int(kindMute)) + uint(int(kindMute)-C.ONECXI_ACTION_MUTE)
	_ = uint(C.ONECXI_ACTION_HOLD-int(kindHold)) + uint(int(kindHold)-C.ONECXI_ACTION_HOLD)
	_ = uint(C.ONECXI_ACTION_DTMF-int(kindDTMF)) + uint(int(kindDTMF)-C.ONECXI_ACTION_DTMF)
	_ = uint(C.ONECXI_ACTION_START-int(kindStart)) + uint(int(kindStart)-C.ONECXI_ACTION_START)
	_ = uint(C.ONECXI_ACTION_RESET-int(kindReset)) + uint(int(kindReset)-C.ONECXI_ACTION_RESET)
)

// The UUIDs Go hands out fit the report's buffer.
const _ = uint(C.ONECXI_UUID_LEN - len("00000000-0000-0000-0000-000000000000"))

// objcBridge is the appleBridge over ios_glue.m.
type objcBridge struct{}

func newObjCBridge() (appleBridge, error) { return objcBridge{}, nil }

// objcReceiver is the platform the glue's callbacks reach: the latest made
// (the app makes one). newPlatform sets it before it starts the glue, and
// the Objective-C side calls in only after start.
var objcReceiver atomic.Pointer[iosPhone]

func setObjCReceiver(p *iosPhone) { objcReceiver.Store(p) }

// cstr is s as a C string for the duration of f.
func cstr(s string, f func(*C.char)) {
	c := C.CString(s)
	defer C.free(unsafe.Pointer(c))
	f(c)
}

func (objcBridge) start() { C.onecxi_ios_start() }

func (objcBridge) recordPermission() micPermission {
	switch C.onecxi_ios_record_permission() {
	case C.ONECXI_MIC_GRANTED:
		return micGranted
	case C.ONECXI_MIC_DENIED:
		return micDenied
	}
	return micUndetermined
}

func (objcBridge) requestRecordPermission(code int32) {
	C.onecxi_ios_request_record_permission(C.int32_t(code))
}

func (objcBridge) notificationPermission(code int32) {
	C.onecxi_ios_notification_permission(C.int32_t(code))
}

func (objcBridge) requestNotificationPermission(code int32) {
	C.onecxi_ios_request_notification_permission(C.int32_t(code))
}

func (objcBridge) reportIncomingCall(uuid string, d callDisplay) {
	cstr(uuid, func(u *C.char) {
		cstr(d.handle, func(h *C.char) {
			cstr(d.name, func(n *C.char) { C.onecxi_ios_report_incoming(u, h, n) })
		})
	})
}

func (objcBridge) updateCall(uuid string, d callDisplay) {
	cstr(uuid, func(u *C.char) {
		cstr(d.handle, func(h *C.char) {
			cstr(d.name, func(n *C.char) { C.onecxi_ios_update_call(u, h, n) })
		})
	})
}

func (objcBridge) endCall(uuid string, reason endReason) {
	cstr(uuid, func(u *C.char) { C.onecxi_ios_end_call(u, C.int(reason)) })
}

func (objcBridge) startOutgoingCall(uuid, handle string) {
	cstr(uuid, func(u *C.char) {
		cstr(handle, func(h *C.char) { C.onecxi_ios_start_outgoing(u, h) })
	})
}

func (objcBridge) outgoingConnected(uuid string) {
	cstr(uuid, func(u *C.char) { C.onecxi_ios_outgoing_connected(u) })
}

func (objcBridge) setSpeaker(on bool) string {
	var v C.int
	if on {
		v = 1
	}
	res := C.onecxi_ios_set_speaker(v)
	if res == nil {
		return ""
	}
	defer C.free(unsafe.Pointer(res))
	return C.GoString(res)
}

// The callbacks of ios_glue.m, on the main queue. Each copies what it was
// given and returns at once.

// goText copies a C string that may be NULL.
func goText(s *C.char) string {
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

//export onecxiIOSIncomingPush
func onecxiIOSIncomingPush(payload *C.char, n C.size_t, out *C.onecxi_push_report) {
	var b []byte
	if payload != nil && n > 0 {
		// At most one byte past the limit: enough to be refused as too long.
		b = C.GoBytes(unsafe.Pointer(payload), C.int(min(n, maxVoIPPush+1)))
	}
	var r pushReport
	if p := objcReceiver.Load(); p != nil {
		r = p.incomingPush(b)
	} else {
		// Cannot happen (no pushes before start), but the push must still
		// be reported, or iOS kills the app.
		r = pushReport{uuid: newCallUUID(), handle: "Unknown", end: true, reason: endFailed}
	}
	for i := range min(len(r.uuid), C.ONECXI_UUID_LEN) {
		out.uuid[i] = C.char(r.uuid[i])
	}
	out.uuid[min(len(r.uuid), C.ONECXI_UUID_LEN)] = 0
	out.handle = C.CString(r.handle)
	out.name = C.CString(r.name)
	out.end_reason = 0
	if r.end {
		out.end_reason = C.int(r.reason)
	}
}

//export onecxiIOSIncomingReported
func onecxiIOSIncomingReported(uuid, errText *C.char) {
	if p := objcReceiver.Load(); p != nil {
		p.incomingReported(goText(uuid), goText(errText))
	}
}

//export onecxiIOSOutgoingRefused
func onecxiIOSOutgoingRefused(uuid, errText *C.char) {
	if p := objcReceiver.Load(); p != nil {
		p.outgoingRefused(goText(uuid), goText(errText))
	}
}

//export onecxiIOSProviderAction
func onecxiIOSProviderAction(kind C.int, uuid *C.char, on C.int, digits *C.char) C.int {
	p := objcReceiver.Load()
	if p == nil || !p.providerAction(providerKind(kind), goText(uuid), on != 0, goText(digits)) {
		return 0
	}
	return 1
}

//export onecxiIOSAudioSession
func onecxiIOSAudioSession(active C.int) {
	if p := objcReceiver.Load(); p != nil {
		p.audioSession(active != 0)
	}
}

//export onecxiIOSVoIPToken
func onecxiIOSVoIPToken(token *C.char, n C.size_t) {
	p := objcReceiver.Load()
	if p == nil {
		return
	}
	if token == nil || n == 0 {
		p.voipToken(nil)
		return
	}
	if n > C.size_t(maxVoIPTokenBytes) {
		p.voipToken(make([]byte, maxVoIPTokenBytes+1)) // refused as too long
		return
	}
	p.voipToken(C.GoBytes(unsafe.Pointer(token), C.int(n)))
}

//export onecxiIOSPermission
func onecxiIOSPermission(code C.int32_t, granted C.int) {
	if p := objcReceiver.Load(); p != nil {
		p.permissionAnswer(int32(code), granted != 0)
	}
}
