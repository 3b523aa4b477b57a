package server

import "github.com/onecxi/phone/wire"

// Notifier tells a callee's devices about a call: an incoming one (push
// event "initial") or its end (event "end"). The registry calls every
// notifier with the same payload, which is exactly the guide's push payload.
//
// The first implementation is the events connections (/v1/events), built in;
// FCM and APNs push will be added with WithNotifier.
type Notifier interface {
	// Notify delivers p to the devices of number in account and returns how
	// many it reached or queued (0 for none: the callee is unreachable). It
	// is called on the registry goroutine and must not block.
	Notify(account, number string, p wire.PushPayload) int
}

// eventsNotifier delivers to the live events connections. It reads the
// registry's own map, which is safe because Notify runs on the registry
// goroutine.
type eventsNotifier struct{ r *registry }

func (n eventsNotifier) Notify(account, number string, p wire.PushPayload) int {
	return n.notify(account, number, p, "")
}

// notify is Notify skipping the connections of device except (if not "").
func (n eventsNotifier) notify(account, number string, p wire.PushPayload, except string) int {
	st := n.r.byName[account]
	if st == nil {
		return 0
	}
	sent := 0
	for ec := range st.events[number] {
		if except != "" && ec.device == except {
			continue
		}
		if n.r.s.post(ec.conn, wire.Message{Type: wire.TypeIncoming, CallID: p.CallID, Push: &p}) {
			sent++
		}
	}
	return sent
}
