package sipgw

import (
	"bytes"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// fuzzGateway has two calls: one answered (both tags known) and one
// outbound before its answer (our tag only); their peer is trunkIP, and
// otherIP is another trunk's address.
func fuzzGateway() (*Gateway, map[string]*fakeCall) {
	g := screenGateway(nil)
	calls := map[string]*fakeCall{
		liveCallID: liveCall(),
		"early-1":  {id: dialogID{callID: "early-1", localTag: ourTag, localKnown: true, peers: prefixes(trunkIP)}},
	}
	for _, c := range calls {
		g.addCall(c)
	}
	return g, calls
}

var fuzzSources = []string{trunkIP, strangerIP, otherIP, "::1"}

// FuzzInDialog: whatever a request says and wherever it comes from, it
// reaches a call only with that call's Call-ID and tags from its peer, and
// is otherwise answered 403 (a stranger, or not the call's peer) or 481
// (no such dialog), an ACK never; the call is never touched by a refusal.
func FuzzInDialog(f *testing.F) {
	src := netip.MustParseAddrPort(trunkIP + ":5060")
	for _, r := range []sipRequest{
		{method: "BYE", callID: liveCallID, fromTag: theirTag, toTag: ourTag, via: src},
		{method: "BYE", callID: liveCallID, fromTag: ourTag, toTag: theirTag, via: src},
		{method: "INVITE", callID: liveCallID, fromTag: theirTag, toTag: ourTag, via: src, body: "v=0\r\n"},
		{method: "ACK", callID: liveCallID, fromTag: theirTag, toTag: "x", via: src},
		{method: "BYE", callID: "early-1", fromTag: "any", toTag: ourTag, via: src},
		{method: "UPDATE", callID: "early-1", fromTag: "any", via: src},
		{method: "INFO", callID: "nobody", fromTag: "a", toTag: "b", via: src},
	} {
		for i := range fuzzSources {
			f.Add([]byte(r.String()), uint8(i))
		}
	}
	f.Add([]byte("BYE sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\ni: "+liveCallID+
		"\r\nf: <sip:a@b>;tag="+theirTag+"\r\nt: <sip:c@d>;tag="+ourTag+"\r\nCSeq: 2 BYE\r\nl: 0\r\n\r\n"), uint8(0))
	f.Fuzz(func(t *testing.T, raw []byte, which uint8) {
		msg, err := sip.ParseMessage(raw)
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		g, calls := fuzzGateway()
		ip := netip.MustParseAddr(fuzzSources[int(which)%len(fuzzSources)])
		req.SetSource(netip.AddrPortFrom(ip, 5060).String())

		// What RFC 3261 §12.2.2 and the allow-lists say, restated.
		var want *fakeCall
		wantStatus := 0
		var id string
		if h := req.CallID(); h != nil {
			id = h.Value()
		}
		call := calls[id]
		switch {
		case call == nil && !g.allow.allows(ip):
			wantStatus = 403
		case call == nil:
			wantStatus = 481
		case !call.id.peers.allows(ip):
			wantStatus = 403
		default:
			var toTag, fromTag string
			var hasTo bool
			if to := req.To(); to != nil {
				toTag, hasTo = to.Params.Get("tag")
			}
			if from := req.From(); from != nil {
				fromTag, _ = from.Params.Get("tag")
			}
			d := call.id
			match := req.To() != nil && req.From() != nil &&
				(d.localKnown && hasTo && toTag == d.localTag || !d.localKnown && toTag != "") &&
				(!d.remoteKnown || fromTag == d.remoteTag)
			if match {
				want = call
			} else {
				wantStatus = 481
			}
		}

		c, status, reason := g.admitInDialog(req)
		if status != wantStatus {
			t.Fatalf("status %d (%s), want %d", status, reason, wantStatus)
		}
		if want != nil && c != dialogCall(want) || want == nil && c != nil {
			t.Fatalf("admitted %v, want %v", c, want)
		}
		if c != nil {
			if req.CallID().Value() != want.id.callID || !want.id.peers.allows(ip) {
				t.Fatalf("admitted a request of another dialog")
			}
		}

		tx := &recordingTx{}
		got := g.inDialog(req, tx)
		if got != c {
			t.Fatalf("inDialog %v, admitInDialog %v", got, c)
		}
		res := tx.responses()
		switch {
		case c != nil || req.IsAck():
			if len(res) != 0 {
				t.Fatalf("answered %d responses", len(res))
			}
		case len(res) != 1 || res[0].StatusCode != wantStatus:
			t.Fatalf("responses %v, want one %d", res, wantStatus)
		}
		for _, fc := range calls {
			if b, r, a := fc.counts(); b+r+a != 0 {
				t.Fatalf("a call was touched")
			}
		}
	})
}

// chunkConn is a TCP connection that delivers chunks, then EOF, and keeps
// what is written to it.
type chunkConn struct {
	net.Conn
	chunks  [][]byte
	written bytes.Buffer
}

func (c *chunkConn) Read(b []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(b, c.chunks[0])
	if c.chunks[0] = c.chunks[0][n:]; len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

func (c *chunkConn) Write(b []byte) (int, error) { return c.written.Write(b) }

// FuzzScreen: whatever arrives, as a datagram or as a TCP stream cut
// anywhere, what reaches sipgo parses (or is a CRLF keep-alive), what is
// sent back is a well-formed 400, 403 or 513 carrying the request's Via and
// CSeq, and nothing answers a response or an ACK.
func FuzzScreen(f *testing.F) {
	src := netip.MustParseAddrPort(trunkIP + ":5060")
	good := sipRequest{method: "OPTIONS", callID: "c1", fromTag: "f", via: src}.String()
	for _, s := range []string{
		good,
		good + good,
		"\r\n\r\n" + good,
		strings.Replace(good, "Content-Length: 0", "Content-Length: 99", 1) + "short",
		strings.Replace(good, "Content-Length: 0", "Content-Length: x", 1),
		strings.Replace(good, "Content-Length: 0\r\n", "", 1),
		strings.Replace(good, "Max-Forwards: 70", "Max-Forwards: x", 1),
		strings.Replace(good, "OPTIONS", "CANCEL", -1),
		strings.Replace(good, "OPTIONS", "ACK", -1),
		"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 INVITE\r\nContent-Length: 9\r\n\r\n",
		"INVITE sip:a@b SIP/2.0\r\nv: SIP/2.0/TCP h;branch=z9hG4bK2\r\nCSeq: 1 INVITE\r\nl: 3\r\n\r\nabc",
	} {
		f.Add([]byte(s), uint16(len(s)/2), uint8(0))
		f.Add([]byte(s), uint16(7), uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint16, which uint8) {
		g := screenGateway(nil)
		from := netip.AddrPortFrom(netip.MustParseAddr(fuzzSources[int(which)%len(fuzzSources)]), 5060)

		pass, reply := g.screen(data, from, TransportUDP, maxMessage)
		if pass {
			if _, err := sip.ParseMessage(data); err != nil && len(data) > 4 {
				t.Fatalf("passed what sipgo cannot parse: %v", err)
			}
		}
		checkFuzzReply(t, data, reply)

		conn := &chunkConn{}
		c := int(cut) % (len(data) + 1)
		conn.chunks = [][]byte{bytes.Clone(data[:c]), bytes.Clone(data[c:])}
		sc := &screenConn{Conn: conn, g: g, src: from, buf: make([]byte, 1<<14)}
		buf := make([]byte, 1<<17)
		for i := 0; ; i++ {
			if i > len(data)+2 {
				t.Fatalf("the stream never ends")
			}
			n, err := sc.Read(buf)
			if n > 0 {
				seg := buf[:n]
				if len(bytes.Trim(seg, "\r\n")) != 0 {
					// sipgo's stream parser takes it as exactly one message.
					msgs := 0
					err := sip.NewParser().NewSIPStream().ParseSIPStream(bytes.Clone(seg), func(sip.Message) { msgs++ })
					if err != nil || msgs != 1 {
						t.Fatalf("passed a segment sipgo does not read as one message (%d, %v): %q", msgs, err, seg)
					}
				}
			}
			if err != nil {
				break
			}
		}
		written := conn.written.Bytes()
		for len(written) > 0 {
			// Each reply ends its header section; none has a body.
			end := bytes.Index(written, []byte("\r\n\r\n"))
			if end < 0 {
				t.Fatalf("a reply without its end: %q", written)
			}
			checkFuzzReply(t, nil, written[:end+4])
			written = written[end+4:]
		}
	})
}

func checkFuzzReply(t *testing.T, req []byte, reply []byte) {
	t.Helper()
	if reply == nil {
		return
	}
	msg, err := sip.ParseMessage(reply)
	if err != nil {
		t.Fatalf("an unparsable reply: %v: %q", err, reply)
	}
	res, ok := msg.(*sip.Response)
	if !ok {
		t.Fatalf("a reply that is not a response: %q", reply)
	}
	switch res.StatusCode {
	case 400, 403, 513:
	default:
		t.Fatalf("reply %d", res.StatusCode)
	}
	if res.Via() == nil || res.CSeq() == nil || res.ContentLength() == nil || *res.ContentLength() != 0 {
		t.Fatalf("a reply without Via, CSeq or Content-Length 0: %q", reply)
	}
	if bytes.HasPrefix(req, []byte("SIP/")) || bytes.HasPrefix(req, []byte("ACK ")) {
		t.Fatalf("a response or an ACK answered: %q", reply)
	}
}
