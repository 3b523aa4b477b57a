package app

import (
	"fyne.io/fyne/v2"

	"github.com/onecxi/phone/callcore"
)

// OnCallReconnecting puts up the in-call screen's "Reconnecting…" banner:
// this phone's connection to the call (remote false) or the far party's was
// lost and is being restored. The status event carrying IsReconnecting
// does the same; either alone is enough.
func (u *UI) OnCallReconnecting(remote bool) {
	fyne.Do(func() {
		if u.inCall {
			u.InCall.SetReconnecting(remote, true)
			u.refreshStatus()
		}
	})
}

// OnCallReconnected takes the banner down: the call is back.
func (u *UI) OnCallReconnected(remote bool) {
	fyne.Do(func() {
		if u.inCall {
			u.InCall.SetReconnecting(remote, false)
			u.refreshStatus()
		}
	})
}

// OnCallEndReason says on the dialer why the call ended, and records it in
// the call's history entry. It arrives just before OnCallEnded, usually
// after the idle status has already taken the in-call screen down.
func (u *UI) OnCallEndReason(t callcore.CallType, r callcore.EndReason) {
	fyne.Do(func() {
		u.calls.endReason(r)
		u.Dialer.ShowEnded(r)
	})
}
