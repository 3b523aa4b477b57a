package main

import "github.com/onecxi/phone/callcore"

var (
	_ callcore.ReconnectCallback = (*printer)(nil)
	_ callcore.EndReasonCallback = (*printer)(nil)
)

// OnCallReconnecting prints that the call's connection, this side's or
// the far end's, was lost and is being restored.
func (p *printer) OnCallReconnecting(remote bool) {
	if remote {
		p.say("reconnect", "the far end's connection was lost; it is reconnecting")
	} else {
		p.say("reconnect", "the call's connection was lost; reconnecting")
	}
}

// OnCallReconnected prints that the call is back.
func (p *printer) OnCallReconnected(remote bool) {
	if remote {
		p.say("resumed", "the far end is back")
	} else {
		p.say("resumed", "the call is back on a new connection")
	}
}

// OnCallEndReason prints why the call ended, just before its "ended" line:
// the reason's name (for scripts) and what it means.
func (p *printer) OnCallEndReason(_ callcore.CallType, r callcore.EndReason) {
	p.say("end reason", "%s: %s", r, r.Describe())
}
