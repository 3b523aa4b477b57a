package server

import (
	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/wire"
)

// via says which ways a notification travels.
type via uint8

const (
	viaEvents via = 1 << iota // the callee's live /v1/events connections
	viaPush                   // the call's push targets (APNs, FCM)
	viaAll    = viaEvents | viaPush
)

// notify is the one way the registry tells a callee's devices about app
// call c: event is "initial" (it rings) or "end" (stop ringing, or the call
// is over). The guide's push payload goes as an incoming message on every
// live events connection of the callee and as a push to the devices rung by
// push, skipping the device except (the one that answered, if it gave its
// ID). It returns how many devices were reached or queued.
func (r *registry) notify(c *call, event string, how via, except string) int {
	p := c.push(event, r.environment)
	n := 0
	if how&viaEvents != 0 {
		n += r.notifyLocal(c.st, c.callee, except, p)
		if len(c.peerNodes) > 0 && r.peers != nil {
			r.peers.notify(c.peerNodes, c.st.acct.name, c.callee, except, p)
		}
	}
	if how&viaPush != 0 {
		targets := c.pushTargets
		if except != "" {
			targets = make([]devices.Device, 0, len(c.pushTargets))
			for _, d := range c.pushTargets {
				if d.DeviceID != except {
					targets = append(targets, d)
				}
			}
		}
		r.push.Send(targets, p)
		n += len(targets)
	}
	return n
}

// notifyLocal sends p, as an incoming message, on every events connection
// of number on this node except device except's, and returns how many.
func (r *registry) notifyLocal(st *acctState, number, except string, p wire.PushPayload) int {
	n := 0
	for ec := range st.events[number] {
		if except != "" && ec.device == except {
			continue
		}
		if post(ec.conn, wire.Message{Type: wire.TypeIncoming, CallID: p.CallID, Push: &p}) {
			n++
		}
	}
	return n
}
