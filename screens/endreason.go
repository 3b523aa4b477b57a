package screens

import (
	"fyne.io/fyne/v2/widget"

	"github.com/onecxi/phone/callcore"
)

// EndedText is what the dialer says when a call is over: "Call ended. The
// other party hung up."
func EndedText(r callcore.EndReason) string { return "Call ended. " + r.Describe() }

// endedBadly reports whether r is a failure the user should notice, as
// opposed to someone hanging up, declining or not answering.
func endedBadly(r callcore.EndReason) bool {
	switch r {
	case callcore.EndReasonHangup, callcore.EndReasonRemoteHangup, callcore.EndReasonDeclined, callcore.EndReasonNoAnswer:
		return false
	}
	return true
}

// endedImportance is the colour of EndedText: warning for a failure.
func endedImportance(r callcore.EndReason) widget.Importance {
	if endedBadly(r) {
		return widget.WarningImportance
	}
	return widget.MediumImportance
}

// endReasonNote is a history entry's word on why a call ended, where its
// outcome does not say it already: "" for hang-ups, declines and missed
// calls, and for a failure recorded as Failed.
func endReasonNote(r callcore.EndReason, o Outcome) string {
	switch r {
	case callcore.EndReasonNetworkLost:
		return "connection lost"
	case callcore.EndReasonRemoteLost:
		return "their connection lost"
	case callcore.EndReasonKeepaliveTimeout:
		return "timed out"
	case callcore.EndReasonServerShutdown:
		return "server shut down"
	case callcore.EndReasonTrunkFailed:
		return "phone network failed"
	case callcore.EndReasonFailed:
		if o != Failed {
			return "failed"
		}
	}
	return ""
}
