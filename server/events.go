package server

import (
	"log/slog"

	"github.com/gorilla/websocket"

	"github.com/onecxi/phone/wire"
)

// eventConn is one /v1/events WebSocket: an online device of number that
// wants to hear about calls for it.
type eventConn struct {
	conn   *wire.Conn
	acct   *account
	number string
	device string // the install's ID, if it gave one
	log    *slog.Logger

	// The reader goroutine's: its control message rate (limits.go).
	bucket  tokenBucket
	limited bool // over the rate: closing, and reading no more
}

// serveEvents runs an upgraded /v1/events connection until it closes.
func (s *Server) serveEvents(acct *account, number, device string, ws *websocket.Conn, remote string) {
	log := s.log.With("account", acct.name, "number", number, "remote", remote)
	conn := wire.NewConn(ws, log)
	ec := &eventConn{conn: conn, acct: acct, number: number, device: device, log: log, bucket: newTokenBucket(s.cfg.Limits)}
	// hello means "registered": it is queued on the registry goroutine right
	// after registration, so a call placed once the app has seen it rings
	// this device, and no incoming event can precede it.
	var err error
	register := func() {
		if err = s.reg.addEvents(ec); err == nil {
			post(conn, wire.Message{Type: wire.TypeHello})
		}
	}
	if e := s.reg.do(register); e != nil || err != nil {
		conn.Close(wire.CloseGoingAway, "server shutting down")
		return
	}
	log.Debug("events connection open")
	err = conn.Run(s.base, wire.Handlers{
		OnMessage: func(m wire.Message) {
			if !ec.allowControl() {
				return
			}
			if m.Type == wire.TypePing {
				_ = conn.Send(wire.Message{Type: wire.TypePong, TS: m.TS})
				return
			}
			_ = conn.Send(wire.Message{Type: wire.TypeError, Ref: m.Ref, Code: wire.CodeBadRequest,
				Message: "only ping is accepted on the events connection"})
		},
		OnPing: func() { ec.allowControl() },
		OnBadMessage: func(err error) {
			if !ec.allowControl() {
				return
			}
			_ = conn.Send(wire.Message{Type: wire.TypeError, Code: wire.CodeBadRequest, Message: text(err.Error())})
		},
	})
	_ = s.reg.do(func() { s.reg.removeEvents(ec) })
	log.Debug("events connection closed", "err", err)
}
