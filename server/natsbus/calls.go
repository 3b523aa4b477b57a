package natsbus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/onecxi/phone/server"
)

// Pending limits of the call subscriptions: a node that falls this far
// behind drops (NATS' slow consumer), rather than growing without bound.
const (
	pendingMsgs  = 1 << 16
	pendingBytes = 64 << 20
)

// subscribeCalls subscribes to this node's control and audio subjects and
// to the questions. Callers hold b.mu, with b.self and b.h set.
func (b *Bus) subscribeCalls() error {
	subj := b.subjectsOf(b.self.ID)
	h := b.h
	// One reply subscription for every Ask, made now: a fresh inbox per
	// question could be answered, in a NATS cluster, before the servers
	// the answers come through have heard of it.
	b.replies = nats.NewInbox()
	subs := []struct {
		subject string
		handle  nats.MsgHandler
	}{
		{subj.control, func(m *nats.Msg) { h.Packet(m.Data) }},
		{subj.audio, func(m *nats.Msg) { h.Audio(m.Data) }},
		{SubjectQuestions, b.answer},
		{b.replies + ".*", b.reply},
	}
	for _, x := range subs {
		s, err := b.nc.Subscribe(x.subject, x.handle)
		if err != nil {
			return fmt.Errorf("subscribe to %s: %w", x.subject, err)
		}
		if err := s.SetPendingLimits(pendingMsgs, pendingBytes); err != nil {
			return fmt.Errorf("limit %s: %w", x.subject, err)
		}
		b.subs = append(b.subs, s)
	}
	return nil
}

// errNotJoined is returned by Send and Ask before Join or after Leave.
var errNotJoined = errors.New("natsbus: not in the cluster")

// Send implements server.Cluster: one NATS publish on node's control
// subject.
func (b *Bus) Send(node string, pkt []byte) error {
	if err := b.nc.Publish(b.subjectsOf(node).control, pkt); err != nil {
		return fmt.Errorf("natsbus: send to %s: %w", node, err)
	}
	return nil
}

// SendAudio implements server.Cluster: one NATS publish on node's audio
// subject, which copies pkt into the connection's buffer.
func (b *Bus) SendAudio(node string, pkt []byte) bool {
	return b.nc.Publish(b.subjectsOf(node).audio, pkt) == nil
}

// Questions and answers carry their sender's node ID in front:
// a big-endian uint16 length, then the ID.
func withSender(id string, body []byte) []byte {
	out := make([]byte, 2, 2+len(id)+len(body))
	binary.BigEndian.PutUint16(out, uint16(len(id)))
	out = append(out, id...)
	return append(out, body...)
}

func splitSender(data []byte) (id string, body []byte, ok bool) {
	if len(data) < 2 {
		return "", nil, false
	}
	n := int(binary.BigEndian.Uint16(data))
	if len(data) < 2+n {
		return "", nil, false
	}
	return string(data[2 : 2+n]), data[2+n:], true
}

// answer answers another node's question, not this node's own.
func (b *Bus) answer(m *nats.Msg) {
	from, q, ok := splitSender(m.Data)
	if !ok || from == b.self.ID || m.Reply == "" {
		return
	}
	a := b.h.Answer(q)
	if a == nil {
		return
	}
	if err := m.Respond(withSender(b.self.ID, a)); err != nil {
		b.trouble.Warn(b.log, "cluster answer not sent", "err", err)
	}
}

// Ask implements server.Cluster: q goes to every node on
// SubjectQuestions with a reply inbox, and the answers are read until
// each is satisfied, every other live node has answered, or ctx ends.
func (b *Bus) Ask(ctx context.Context, q []byte, each func(node string, answer []byte) bool) error {
	b.mu.Lock()
	self, joined := b.self.ID, b.joined && !b.left
	b.mu.Unlock()
	if !joined {
		return errNotJoined
	}
	others := map[string]bool{}
	for _, n := range b.Nodes() {
		if n.ID != self {
			others[n.ID] = true
		}
	}
	if len(others) == 0 {
		return nil
	}
	token := nats.NewInbox()[len(nats.InboxPrefix):]
	answers := make(chan []byte, len(others))
	b.asks.Store(token, answers)
	defer b.asks.Delete(token)
	if err := b.nc.PublishRequest(SubjectQuestions, b.replies+"."+token, withSender(self, q)); err != nil {
		return fmt.Errorf("natsbus: ask: %w", err)
	}
	for len(others) > 0 {
		var data []byte
		select {
		case data = <-answers:
		case <-ctx.Done():
			return fmt.Errorf("natsbus: ask: %d of the nodes did not answer: %w", len(others), ctx.Err())
		}
		from, a, ok := splitSender(data)
		if !ok || !others[from] {
			continue
		}
		delete(others, from)
		if each(from, a) {
			return nil
		}
	}
	return nil
}

// reply hands an answer to the Ask waiting for it, if any still is.
func (b *Bus) reply(m *nats.Msg) {
	token := strings.TrimPrefix(m.Subject, b.replies+".")
	if v, ok := b.asks.Load(token); ok {
		select {
		case v.(chan []byte) <- m.Data:
		default: // more answers than nodes: not one of ours
		}
	}
}

var _ server.Cluster = (*Bus)(nil)
