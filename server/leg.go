package server

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/onecxi/phone/server/endpoint"
	"github.com/onecxi/phone/wire"
)

// Phases of a leg before and after its start message.
const (
	legWaiting int32 = iota // upgraded, no start yet
	legStarted              // start received (routed, or refused by the router)
	legRefused              // bad first message or start timeout: closing
)

// leg is one /v1/call WebSocket: one party's side of a call. Its reader
// goroutine (wire.Conn.Run) handles messages by asking the registry, and
// forwards audio along route without asking anyone.
type leg struct {
	reg    *registry
	stats  *counters
	acct   *account
	conn   LegConn      // a *legSocket, or a trunk's inbound caller (ExternalLeg)
	sock   *legSocket   // a /v1/call leg's socket(s); nil for a trunk caller
	remote string       // the client address its first socket came from
	log    *slog.Logger // registry-owned after start
	phase  atomic.Int32

	// Registry-owned.
	number     string // registered number, from start (a trunk caller: a unique key)
	caller     string // a trunk caller's own number, shown instead of number
	callerName string // a trunk caller's display name, if any
	call       *call
	side       int
	closing    bool // an end or error has been sent; a close follows

	// Call resumption (resume.go), registry-owned.
	resumable  bool                 // the client can resume (wire.FeatureResume), and the server does
	token      wire.ResumeTokenHash // of the token sent in resumable
	lost       bool                 // the connection is lost; the call waits
	lostAt     time.Time
	lostGen    uint64 // counts losses and recoveries, so a stale grace timer does nothing
	lostTimer  *time.Timer
	attachedAt time.Time // the current socket was spliced in
	backSince  time.Time // a lost leg's socket was heard from again since
	resumes    int

	// The per-frame path.
	route atomic.Pointer[route]
	muted atomic.Bool

	// The reader goroutine's: its control message rate (limits.go).
	bucket tokenBucket

	// cs is the socket this leg was created with: it carries this leg, or
	// the leg a resume on it took over. Set for /v1/call legs.
	cs *callSock
	// via is the node holding this leg's WebSocket, when it is another
	// node of the cluster (bridge.go), for call detail records.
	via string
}

// serveCall runs an upgraded /v1/call connection until it closes.
// resumable: the client named wire.FeatureResume in its upgrade.
func (s *Server) serveCall(acct *account, ws *websocket.Conn, remote string, resumable bool) {
	log := s.log.With("account", acct.name, "remote", remote)
	conn := wire.NewConn(ws, log)
	cs := s.newCallSock(acct, conn, remote, resumable, log)
	if cs == nil {
		conn.Close(wire.CloseGoingAway, "server shutting down")
		return
	}
	l := cs.first
	timer := time.AfterFunc(s.startLimit, func() {
		if l.phase.CompareAndSwap(legWaiting, legRefused) {
			log.Info("no start message in time; closing")
			conn.Close(wire.CloseStartTimeout, "no start message")
		}
	})
	err := conn.Run(s.base, cs.handlers())
	timer.Stop()
	if err != nil {
		log.Debug("call connection closed", "err", err)
	}
	cs.closed(err)
}

// callSock is one socket of /v1/call and what it carries: the leg it
// started (first), or once a resume succeeds the leg it resumed; or, on a
// node of a cluster, the bridge to the node where its call lives (edge).
type callSock struct {
	s       *Server
	first   *leg
	conn    callSocket // a *wire.Conn, or a *bridgeConn from another node
	ws      *wire.Conn // conn, if it is a WebSocket on this node
	carried atomic.Pointer[leg]
	edge    atomic.Pointer[edgeBridge]
}

// newCallSock registers a leg for conn with the registry; nil when the
// server is shutting down.
func (s *Server) newCallSock(acct *account, conn callSocket, remote string, resumable bool, log *slog.Logger) *callSock {
	sock := newLegSocket(conn)
	cs := &callSock{s: s, conn: conn}
	cs.ws, _ = conn.(*wire.Conn)
	l := &leg{reg: s.reg, stats: s.stats, acct: acct, conn: sock, sock: sock, log: log, bucket: newTokenBucket(s.cfg.Limits),
		resumable: resumable, remote: remote, cs: cs}
	cs.first = l
	cs.carried.Store(l)
	var err error
	if e := s.reg.do(func() { err = s.reg.addLeg(l) }); e != nil || err != nil {
		return nil
	}
	return cs
}

// handlers are the socket's: messages go to the leg it carries, or over
// the bridge to the call's node. The control rate is the socket's: the
// first leg's bucket, whichever leg it carries.
func (cs *callSock) handlers() wire.Handlers {
	l := cs.first
	return wire.Handlers{
		OnMessage: func(m wire.Message) {
			if !l.allowControl() {
				return
			}
			if e := cs.edge.Load(); e != nil {
				e.upMessage(m)
				return
			}
			cs.carried.Load().handle(m)
		},
		OnAudio: func(raw []byte) {
			if e := cs.edge.Load(); e != nil {
				e.upAudio(raw)
				return
			}
			cs.carried.Load().onAudio(raw)
		},
		OnBadMessage: func(err error) {
			if l.allowControl() {
				cs.carried.Load().handleBad(err)
			}
		},
		OnBadAudio: func(error) { l.stats.framesMalformed.Add(1) },
		OnPing:     func() { l.allowControl() },
	}
}

// closed is told that the socket closed with err (Run's).
func (cs *callSock) closed(err error) {
	if e := cs.edge.Load(); e != nil {
		e.socketClosed(err)
		return
	}
	r := cs.s.reg
	_ = r.do(func() { r.socketGone(cs.carried.Load(), cs.first, cs.conn, err) })
}

// route is where a leg's audio goes. It is swapped atomically as the call
// changes (answered, ended), so the per-frame path takes no lock and never
// asks the registry.
type route struct {
	sink endpoint.AudioSink
	held *atomic.Uint32 // the call's hold bits; any set means no audio either way
}

// onAudio is the relay: one atomic load of the route, checks of mute and
// hold, and a non-blocking queue onto the far end. No lock, no allocation,
// no log.
func (l *leg) onAudio(raw []byte) {
	rt := l.route.Load()
	if rt == nil || l.muted.Load() || rt.held.Load() != 0 {
		l.stats.framesDropped.Add(1)
		wire.ReleaseAudioBuffer(raw) // ours, and going nowhere
		return
	}
	if rt.sink.SendAudioRaw(raw) {
		l.stats.framesRelayed.Add(1)
	} else {
		l.stats.framesDropped.Add(1)
	}
}

// handle acts on a control message read on l's socket (its rate already
// counted).
func (l *leg) handle(m wire.Message) {
	switch l.phase.Load() {
	case legRefused:
		return
	case legWaiting:
		if m.Type == wire.TypeResume && l.cs != nil {
			if l.phase.CompareAndSwap(legWaiting, legStarted) {
				var to *leg
				var away bool
				if err := l.reg.do(func() { to, away = l.reg.resume(l, m, l.cs.canBridge()) }); err != nil {
					l.conn.Close(wire.CloseGoingAway, "server shutting down")
				}
				switch {
				case away:
					l.cs.bridgeOut(m)
				case to != nil:
					l.cs.carried.Store(to)
				}
			}
			return
		}
		if m.Type != wire.TypeStart {
			l.refuse(fmt.Sprintf("the first message must be start or resume, not %s", m.Type))
			return
		}
		if l.phase.CompareAndSwap(legWaiting, legStarted) {
			// Looked up here, on the leg's own goroutine: the registry
			// goroutine never waits on the database or the cluster.
			targets := l.reg.pushTargets(l.acct, m)
			peers := l.reg.ringPeers(l.acct, m)
			bridge := l.cs != nil && l.cs.canBridge()
			var away bool
			if err := l.reg.do(func() { away = l.reg.start(l, m, targets, peers, bridge) }); err != nil {
				l.conn.Close(wire.CloseGoingAway, "server shutting down")
			}
			if away {
				l.cs.bridgeOut(m)
			}
		}
		return
	}
	r := l.reg
	switch m.Type {
	case wire.TypePing:
		_ = l.conn.Send(wire.Message{Type: wire.TypePong, TS: m.TS})
	case wire.TypeEnd:
		_ = r.do(func() { r.hangup(l) })
		l.conn.Close(wire.CloseNormal, "")
	case wire.TypeMute:
		l.control(m.Ref, func() (wire.Code, string) { return r.mute(l, *m.On) })
	case wire.TypeHold:
		l.control(m.Ref, func() (wire.Code, string) { return r.hold(l, *m.On) })
	case wire.TypeDTMF:
		l.control(m.Ref, func() (wire.Code, string) { return r.dtmf(l, m.Digit) })
	case wire.TypeStatus:
		reply := wire.Message{Type: wire.TypeStatus, State: stateEnded.String()}
		_ = r.do(func() { reply = r.status(l) })
		reply.Ref = m.Ref
		_ = l.conn.Send(reply)
	case wire.TypeStart, wire.TypeResume:
		l.sendError(m.Ref, wire.CodeBadRequest, "the call has already started")
	default:
		l.sendError(m.Ref, wire.CodeBadRequest, fmt.Sprintf("%s is not a message a client sends on a call", m.Type))
	}
}

// control runs a request on the registry and answers ack{ref} or
// error{ref,code}. A request without ref wants no answer.
func (l *leg) control(ref uint32, f func() (wire.Code, string)) {
	code, msg := wire.CodeShuttingDown, "the server is shutting down"
	_ = l.reg.do(func() { code, msg = f() })
	if ref == 0 {
		return
	}
	if code == "" {
		_ = l.conn.Send(wire.Message{Type: wire.TypeAck, Ref: ref})
		return
	}
	l.sendError(ref, code, msg)
}

// handleBad answers bad_request and keeps the connection, except before
// start: a client whose first message is wrong is not going to place a call.
func (l *leg) handleBad(err error) {
	switch l.phase.Load() {
	case legRefused:
	case legWaiting:
		l.refuse(err.Error())
	default:
		l.sendError(0, wire.CodeBadRequest, err.Error())
	}
}

// refuse answers a bad first message with error and closes 1008.
func (l *leg) refuse(msg string) {
	if !l.phase.CompareAndSwap(legWaiting, legRefused) {
		return
	}
	l.sendError(0, wire.CodeBadRequest, msg)
	l.conn.Close(wire.ClosePolicy, "expected start") // after the error: Close flushes it
}

func (l *leg) sendError(ref uint32, code wire.Code, msg string) {
	_ = l.conn.Send(wire.Message{Type: wire.TypeError, Ref: ref, Code: code, Message: text(msg)})
}

// text trims s to the protocol's free-text limit without splitting a rune.
func text(s string) string {
	if len(s) <= wire.MaxNameLen {
		return s
	}
	s = s[:wire.MaxNameLen-len("…")]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
