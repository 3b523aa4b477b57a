package callcore

import (
	"log/slog"
	"sync"
	"time"
)

// CallProgressCallback is the bridge from the SDK to the app's UI (the
// guide's CallProgressCallback). Register one with SetCallProgressCallback.
//
// Methods are called on the SDK's dispatcher goroutine, one at a time, in the
// order the events happened, and never while the SDK holds a lock: a method
// may call back into the SDK, even EndCall or Dispose (neither waits for
// callback delivery). The one exception is FlushCallbacks, which waits for
// every queued callback including the method calling it, so from a method it
// only returns when its context ends. A slow method delays later events but
// never the SDK: events queue without bound meanwhile.
type CallProgressCallback interface {
	// OnCallStatusChanged fires on every state change: connecting, ringing,
	// answered, ended, mute, hold, speaker, remote hold.
	OnCallStatusChanged(status CallStatus)
	// OnCallStarted fires when the call is answered. did is the DID or
	// number the call is with.
	OnCallStarted(callType CallType, did, registeredNumber string)
	// OnCallEnded fires once per call that Start returned nil for, however it
	// ended (EndCall, remote hang-up, decline, error, push "end"). It is the
	// call's last event: OnWebSocketStatusChanged(false), OnCallError,
	// OnCallDeclined and the idle OnCallStatusChanged come before it.
	OnCallEnded(callType CallType, did string)
	// OnCallError reports an error outside a method's return value: a call
	// failing after it was placed, a lost connection, an unacknowledged DTMF
	// digit, a failed incoming-call action. err is an *Error.
	OnCallError(err error, callType CallType)
	// OnWebSocketStatusChanged fires when the call's WebSocket opens (true)
	// and closes (false): also when a call's connection is lost (false) and
	// the call resumes on a new one (true); see ReconnectCallback.
	OnWebSocketStatusChanged(connected bool)
	// OnCallDeclined fires when the callee declined; callFrom is the number
	// that was called. OnCallEnded follows.
	OnCallDeclined(callType CallType, callFrom string)
}

// CallbackFuncs implements CallProgressCallback with optional functions; nil
// fields ignore their event. Handy in tests, CLIs and small apps.
type CallbackFuncs struct {
	StatusChanged  func(CallStatus)
	Started        func(callType CallType, did, registeredNumber string)
	Ended          func(callType CallType, did string)
	Error          func(err error, callType CallType)
	WebSocket      func(connected bool)
	Declined       func(callType CallType, callFrom string)
	Listening      func(connected bool)     // ListeningCallback
	RemoteDTMF     func(digit string)       // RemoteDTMFCallback
	ServerDraining func(left time.Duration) // ServerDrainingCallback

	Quality        func(CallQuality)                   // QualityCallback
	QualityWarning func(w QualityWarning, raised bool) // QualityCallback

	Reconnecting func(remote bool)                         // ReconnectCallback
	Reconnected  func(remote bool)                         // ReconnectCallback
	EndReason    func(callType CallType, reason EndReason) // EndReasonCallback
}

var (
	_ CallProgressCallback   = CallbackFuncs{}
	_ ListeningCallback      = CallbackFuncs{}
	_ RemoteDTMFCallback     = CallbackFuncs{}
	_ ServerDrainingCallback = CallbackFuncs{}
)

// ServerDrainingCallback is an optional extension of CallProgressCallback:
// a callback that also implements it is told when the server says it is
// draining, that is stopping or restarting while it lets live calls finish
// (PROTOCOL.md, "Server drain"). left is the longest the server will let a
// call go on; one still up then ends with reason "shutdown" (onCallEnded as
// usual). The SDK itself keeps the current call, and the events connection
// of ListenForIncomingCalls reconnects when the server closes it (see
// there). It fires once for each connection the notice arrives on (the
// current call's, the events connection's), in order with the other events.
// An app may show it ("the service restarts; calls are not affected").
type ServerDrainingCallback interface {
	OnServerDraining(left time.Duration)
}

// OnServerDraining implements ServerDrainingCallback.
func (f CallbackFuncs) OnServerDraining(left time.Duration) {
	if f.ServerDraining != nil {
		f.ServerDraining(left)
	}
}

// RemoteDTMFCallback is an optional extension of CallProgressCallback: a
// callback that also implements it is told of each digit (0-9, *, #) the
// other party pressed during the current call — an app user's SendDTMF, or
// a telephone's keypad through a SIP trunk (RFC 4733). Delivered in order
// with the other events.
type RemoteDTMFCallback interface {
	OnRemoteDTMF(digit string)
}

// OnRemoteDTMF implements RemoteDTMFCallback.
func (f CallbackFuncs) OnRemoteDTMF(digit string) {
	if f.RemoteDTMF != nil {
		f.RemoteDTMF(digit)
	}
}

// ListeningCallback is an optional extension of CallProgressCallback: a
// callback that also implements it is told when the events connection of
// ListenForIncomingCalls is registered with the server (true: calls ring
// here) and when it is lost (false: reconnecting, or given up because the
// credentials were refused). A stop the app asked for (StopListening,
// Dispose, the context) is not reported. It is delivered in order with the
// other events.
type ListeningCallback interface {
	OnListeningChanged(connected bool)
}

// OnListeningChanged implements ListeningCallback.
func (f CallbackFuncs) OnListeningChanged(connected bool) {
	if f.Listening != nil {
		f.Listening(connected)
	}
}

// OnCallStatusChanged implements CallProgressCallback.
func (f CallbackFuncs) OnCallStatusChanged(s CallStatus) {
	if f.StatusChanged != nil {
		f.StatusChanged(s)
	}
}

// OnCallStarted implements CallProgressCallback.
func (f CallbackFuncs) OnCallStarted(t CallType, did, registeredNumber string) {
	if f.Started != nil {
		f.Started(t, did, registeredNumber)
	}
}

// OnCallEnded implements CallProgressCallback.
func (f CallbackFuncs) OnCallEnded(t CallType, did string) {
	if f.Ended != nil {
		f.Ended(t, did)
	}
}

// OnCallError implements CallProgressCallback.
func (f CallbackFuncs) OnCallError(err error, t CallType) {
	if f.Error != nil {
		f.Error(err, t)
	}
}

// OnWebSocketStatusChanged implements CallProgressCallback.
func (f CallbackFuncs) OnWebSocketStatusChanged(connected bool) {
	if f.WebSocket != nil {
		f.WebSocket(connected)
	}
}

// OnCallDeclined implements CallProgressCallback.
func (f CallbackFuncs) OnCallDeclined(t CallType, callFrom string) {
	if f.Declined != nil {
		f.Declined(t, callFrom)
	}
}

// event is one queued callback invocation.
type event func(CallProgressCallback)

// dispatcher delivers events to the registered callback in FIFO order on
// one goroutine. The goroutine exists only while the queue is non-empty, so
// an idle SDK holds no goroutine and a forgotten SDK leaks none. The queue
// is unbounded so that emitting never blocks the SDK (emit is called with
// the SDK lock held, to fix the order of events).
type dispatcher struct {
	log *slog.Logger

	mu      sync.Mutex
	cb      CallProgressCallback
	queue   []event
	running bool
	closed  bool
	idle    chan struct{} // closed when the queue drains; replaced per burst
}

func newDispatcher(log *slog.Logger) *dispatcher {
	d := &dispatcher{log: log, idle: make(chan struct{})}
	close(d.idle)
	return d
}

// set replaces the callback; nil unregisters. Events are resolved against
// the callback registered when they are delivered, so after set returns the
// previous callback gets no further calls (except one already running).
func (d *dispatcher) set(cb CallProgressCallback) {
	d.mu.Lock()
	d.cb = cb
	d.mu.Unlock()
}

// emit queues ev. It never blocks and may be called with other locks held.
func (d *dispatcher) emit(ev event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	d.queue = append(d.queue, ev)
	if !d.running {
		d.running = true
		d.idle = make(chan struct{})
		go d.run(d.idle)
	}
}

func (d *dispatcher) run(idle chan struct{}) {
	for {
		d.mu.Lock()
		if len(d.queue) == 0 {
			d.running = false
			d.queue = nil // let a burst's backing array go
			close(idle)
			d.mu.Unlock()
			return
		}
		ev := d.queue[0]
		d.queue[0] = nil
		d.queue = d.queue[1:]
		cb := d.cb
		d.mu.Unlock()
		if cb != nil {
			d.deliver(cb, ev)
		}
	}
}

// deliver runs one event, surviving a panicking callback: one broken UI
// handler must not stop every later event.
func (d *dispatcher) deliver(cb CallProgressCallback, ev event) {
	defer func() {
		if r := recover(); r != nil {
			d.log.Error("callcore: call progress callback panicked", "panic", r)
		}
	}()
	ev(cb)
}

// drained returns a channel closed once everything queued so far has been
// delivered, the callback running now included: waiting on it from inside a
// callback waits forever.
func (d *dispatcher) drained() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.idle
}

// close stops accepting events; queued ones are still delivered, in order,
// on the dispatcher goroutine. It never waits for them.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
}
