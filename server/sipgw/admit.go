package sipgw

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/onecxi/phone/wire"
)

// Screening: every SIP message is checked here, on the raw bytes, before
// sipgo parses it. sipgo drops a message it cannot parse without a word to
// the sender and logs it whole at ERROR, and it parses a datagram whose
// Content-Length exceeds its body into nothing. RFC 3261 asks more:
//
//   - §18.3: over UDP, "If the transport packet ends before the end of the
//     message body, this is considered an error. If the message is a
//     response, it MUST be discarded. If the message is a request, the
//     element SHOULD generate a 400 (Bad Request) response." Over TCP "the
//     Content-Length header field MUST be used": a message without one, or
//     with one that is not a number, leaves no boundary to find the next
//     message at, so it is answered 400 and the connection closed.
//   - §21.4.1: 400 is for malformed syntax, and "The reason phrase SHOULD
//     identify the syntax problem in more detail", so the phrase here says
//     what was wrong (from a fixed set of texts, never the peer's bytes).
//   - a malformed request still gets its 400 when its Via and CSeq can be
//     read (a response the sender cannot match is useless); an ACK is never
//     answered; anything else is dropped.
//
// sipgo's parser reports to nobody but its log, and its read filter
// (sip.WithTransportLayerReadFilter) sees a read's bytes and addresses but
// not the connection: over TCP it can neither answer nor keep a stream's
// framing past the connection's end. So the gateway wraps the sockets it
// gives sipgo: screenPacketConn reads each datagram, screenListener's
// connections frame the TCP stream by Content-Length. A message that
// passes is handed to sipgo unchanged (and parsed twice, which costs
// microseconds); one that does not is answered here, written straight to
// its source, and logged as one short sampled line. A CANCEL from an
// address on no trunk's allow-list is refused here too (403): sipgo acts
// on a CANCEL matching a ringing INVITE before any handler could look at
// its source.
//
// Not screened: the TCP connections sipgo dials itself (to a trunk with
// transport tcp). What arrives on them malformed is dropped by sipgo
// unanswered, and its log line is cut short and sampled (sipgoLog).

// maxMessage bounds a SIP message we take, as sipgo's parser does.
var maxMessage = sip.ParseMaxMessageLength

// udpReadSize is the largest datagram read (UDP's own limit is 65,507
// bytes): one longer than sipgo's read buffer is seen whole and refused
// with 513 instead of being cut and misread.
const udpReadSize = 1 << 16

// screenPacketConn is the UDP socket as sipgo sees it: ReadFrom returns
// only datagrams that passed the screen.
type screenPacketConn struct {
	net.PacketConn
	g   *Gateway
	buf []byte
}

func (g *Gateway) screenUDP(c net.PacketConn) *screenPacketConn {
	return &screenPacketConn{PacketConn: c, g: g, buf: make([]byte, udpReadSize)}
}

// ReadFrom is called by sipgo's one reader of the socket.
func (c *screenPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(c.buf)
		if err != nil {
			return 0, addr, err
		}
		pass, reply := c.g.screen(c.buf[:n], addrPort(addr), TransportUDP, len(b))
		if reply != nil {
			_, _ = c.PacketConn.WriteTo(reply, addr)
		}
		if pass {
			return copy(b, c.buf[:n]), addr, nil
		}
	}
}

// screenListener is the TCP listener as sipgo sees it: its connections
// return only messages that passed the screen.
type screenListener struct {
	net.Listener
	g *Gateway
}

func (l *screenListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &screenConn{Conn: c, g: l.g, src: addrPort(c.RemoteAddr()), buf: make([]byte, 1<<14)}, nil
}

// screenConn frames a TCP stream by Content-Length and returns to sipgo's
// reader each message that passed the screen, and CRLF keep-alives as they
// came. Only sipgo's reader goroutine calls Read.
type screenConn struct {
	net.Conn
	g   *Gateway
	src netip.AddrPort
	buf []byte
	in  []byte   // read, not yet a whole message
	out [][]byte // for sipgo, in order
	err error    // returned once out is drained
	// searched is how much of in holds no end of a header section, and
	// size the length of the message in begins with once its header section
	// is in (0 before): what trickles in is not looked at again.
	searched, size int
}

func (c *screenConn) Read(b []byte) (int, error) {
	for len(c.out) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		n, err := c.Conn.Read(c.buf)
		if n > 0 {
			c.frame(c.buf[:n])
		}
		if err != nil && c.err == nil {
			c.err = err
		}
	}
	n := copy(b, c.out[0])
	if n == len(c.out[0]) {
		c.out[0] = nil
		c.out = c.out[1:]
	} else {
		c.out[0] = c.out[0][n:]
	}
	return n, nil
}

// frame takes what was read and moves each whole message to out.
func (c *screenConn) frame(data []byte) {
	c.in = append(c.in, data...)
	for c.err == nil && len(c.in) > 0 {
		// RFC 3261 §7.5: CRLFs before a start line are ignored; RFC 5626
		// keep-alives are such CRLFs: each double CRLF (a ping, which sipgo
		// answers) and CRLF (a pong) goes to sipgo on its own, a stray CR or
		// LF nowhere.
		if c.in[0] == '\r' || c.in[0] == '\n' {
			c.searched = 0
			switch {
			case bytes.HasPrefix(c.in, []byte("\r\n\r\n")):
				c.out = append(c.out, []byte("\r\n\r\n"))
				c.in = c.in[4:]
			case bytes.HasPrefix(c.in, []byte("\r\n")):
				c.out = append(c.out, []byte("\r\n"))
				c.in = c.in[2:]
			default:
				c.in = c.in[1:]
			}
			continue
		}
		if c.size == 0 {
			end := bytes.Index(c.in[c.searched:], []byte("\r\n\r\n"))
			if end < 0 {
				c.searched = max(0, len(c.in)-3)
				if len(c.in) > maxMessage {
					c.fail(c.in, sip.StatusMessageTooLarge, reasonTooLarge)
				}
				return
			}
			head := c.in[:c.searched+end+4]
			n, present, problem := contentLength(splitMessage(head).headers)
			switch {
			case problem != "":
				c.fail(head, sip.StatusBadRequest, problem)
				return
			case !present:
				c.fail(head, sip.StatusBadRequest, reasonNoLength)
				return
			case len(head)+n > maxMessage:
				c.fail(head, sip.StatusMessageTooLarge, reasonTooLarge)
				return
			}
			c.size = len(head) + n
		}
		if len(c.in) < c.size {
			return // the rest of the body is on its way
		}
		msg := c.in[:c.size]
		pass, reply := c.g.screen(msg, c.src, TransportTCP, maxMessage)
		if reply != nil {
			_, _ = c.Conn.Write(reply)
		}
		if pass {
			c.out = append(c.out, bytes.Clone(msg))
		}
		c.in, c.searched, c.size = c.in[len(msg):], 0, 0
	}
	if len(c.in) == 0 {
		c.in = nil
	}
}

// fail ends a stream that cannot be framed: the request whose header
// section head is gets status if it can be answered, and sipgo's reader
// sees the end of the stream (it then closes the connection).
func (c *screenConn) fail(head []byte, status int, reason string) {
	m := splitMessage(head)
	reply := c.g.refuseMalformed(m, head, c.src, TransportTCP, status, reason, "connection closed")
	if reply != nil {
		_, _ = c.Conn.Write(reply)
	}
	c.in = nil
	c.err = io.EOF
}

// Why a message was refused: fixed texts (log reasons, sampling keys and,
// capitalised, reason phrases), never the peer's bytes.
const (
	reasonTooLarge      = "message too large"
	reasonNoLength      = "no Content-Length (required over TCP)"
	reasonBadLength     = "Content-Length is not a number"
	reasonTwoLengths    = "conflicting Content-Length headers"
	reasonShortBody     = "body shorter than Content-Length"
	reasonNoHeaderEnd   = "header section does not end"
	reasonStartLine     = "malformed start line"
	reasonUnparsable    = "unparsable message"
	reasonNotAllowed    = "source not on any trunk's allow-list"
	reasonNoDialog      = "no dialog with this Call-ID"
	reasonTags          = "tags do not match the dialog"
	reasonNotPeer       = "source is not the dialog's peer"
	reasonNoTransaction = "no transaction to cancel"
)

// screen checks one whole message (a datagram, or a message framed from a
// TCP stream) from src. pass: hand it to sipgo. reply: a response to send
// back to src (a refused request), or nil. limit is the largest message
// sipgo can read.
func (g *Gateway) screen(data []byte, src netip.AddrPort, transport string, limit int) (pass bool, reply []byte) {
	if len(bytes.Trim(data, "\r\n\x00")) == 0 {
		// Keep-alives (sipgo answers a double CRLF) and padding.
		return len(data) <= 4, nil
	}
	if len(data) > limit {
		return false, g.refuseMalformed(splitMessage(data), data, src, transport, sip.StatusMessageTooLarge, reasonTooLarge, "")
	}
	msg, err := sip.ParseMessage(data)
	if err != nil {
		m := splitMessage(data)
		return false, g.refuseMalformed(m, data, src, transport, sip.StatusBadRequest, diagnose(m, transport == TransportUDP), "")
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		return true, nil
	}
	if missing := missingHeader(req); missing != "" {
		return false, g.refuseMalformed(splitMessage(data), data, src, transport, sip.StatusBadRequest, "missing "+missing+" header", "")
	}
	if req.IsCancel() && !g.allow.allows(src.Addr().Unmap()) {
		req.SetSource(src.String())
		g.logSampled(slog.LevelWarn, "SIP request refused", src.String(), "CANCEL: "+reasonNotAllowed,
			"status", sip.StatusForbidden, "sipCallId", wire.Quote(callIDOf(req)), "transport", transport)
		return false, responseBytes(req, sip.StatusForbidden, "Forbidden")
	}
	return true, nil
}

// refuseMalformed logs a message refused for reason and returns the
// response with status to send back, or nil when there is none to send (a
// response, an ACK, a request without a readable Via and CSeq).
func (g *Gateway) refuseMalformed(m wireMessage, data []byte, src netip.AddrPort, transport string, status int, reason, then string) []byte {
	var reply []byte
	if req := m.salvage(); req != nil {
		req.SetSource(src.String())
		reply = responseBytes(req, status, phrase(reason))
	}
	attrs := []any{"method", m.method(), "transport", transport, "bytes", len(data), "prefix", wire.Quote(string(data))}
	if reply != nil {
		attrs = append(attrs, "status", status)
	} else {
		attrs = append(attrs, "status", "none")
	}
	if then != "" {
		attrs = append(attrs, "then", then)
	}
	g.logSampled(slog.LevelWarn, "malformed SIP message", src.String(), reason, attrs...)
	return reply
}

// responseBytes is the wire form of the response with status to req, or
// nil if req's headers (which sipgo read leniently) do not make one that
// parses back: better no answer than a malformed one.
func responseBytes(req *sip.Request, status int, reason string) []byte {
	if !strings.EqualFold(req.SipVersion, "SIP/2.0") {
		return nil
	}
	res := sip.NewResponseFromRequest(req, status, reason, nil)
	res.SetBody(nil) // Content-Length: 0, which a stream needs
	b := []byte(res.String())
	if _, err := sip.ParseMessage(b); err != nil {
		return nil
	}
	return b
}

// phrase is reason as a reason phrase: "Content-Length is not a number".
func phrase(reason string) string {
	if reason == "" {
		return "Bad Request"
	}
	return strings.ToUpper(reason[:1]) + reason[1:]
}

// missingHeader names a header every request needs (RFC 3261 §8.1.1) that
// req lacks, or is "".
func missingHeader(req *sip.Request) string {
	switch {
	case req.Via() == nil:
		return "Via"
	case req.CSeq() == nil:
		return "CSeq"
	case req.CallID() == nil:
		return "Call-ID"
	case req.From() == nil:
		return "From"
	case req.To() == nil:
		return "To"
	}
	return ""
}

// wireMessage is a message split as it came, for what sipgo could not
// parse (and the Content-Length of a TCP message): its start line, its
// header lines (folded ones joined) and what follows the empty line.
type wireMessage struct {
	start   string
	headers []string
	body    []byte
	ended   bool // the header section ends with an empty line
}

func splitMessage(data []byte) wireMessage {
	var m wireMessage
	rest := data
	first := true
	for len(rest) > 0 {
		// Lines end in CRLF, as sipgo reads them: a bare LF is part of a line.
		i := bytes.Index(rest, []byte("\r\n"))
		var line []byte
		if i < 0 {
			line, rest = rest, nil
		} else {
			line, rest = rest[:i], rest[i+2:]
		}
		switch {
		case first:
			m.start, first = string(line), false
		case len(line) == 0:
			m.ended, m.body = true, rest
			return m
		case (line[0] == ' ' || line[0] == '\t') && len(m.headers) > 0:
			m.headers[len(m.headers)-1] += " " + strings.TrimSpace(string(line))
		default:
			m.headers = append(m.headers, string(line))
		}
	}
	return m
}

// headerName is a header line's name in lower case, compact forms
// expanded ("l" is "content-length").
func headerName(line string) string {
	name, _, ok := strings.Cut(line, ":")
	if !ok {
		return ""
	}
	name = strings.ToLower(strings.TrimSpace(name))
	if full, ok := compactNames[name]; ok {
		return full
	}
	return name
}

var compactNames = map[string]string{
	"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length",
	"c": "content-type", "e": "content-encoding", "k": "supported", "s": "subject",
}

// canonicalNames spell the headers sipgo parses (the only ones that can be
// malformed to it) for reasons.
var canonicalNames = map[string]string{
	"via": "Via", "from": "From", "to": "To", "call-id": "Call-ID", "cseq": "CSeq", "contact": "Contact",
	"content-type": "Content-Type", "max-forwards": "Max-Forwards", "route": "Route",
	"record-route": "Record-Route", "refer-to": "Refer-To", "referred-by": "Referred-By",
}

// contentLength reads the Content-Length of headers: its value, whether
// there is one, and what is wrong with it.
func contentLength(headers []string) (n int, present bool, problem string) {
	for _, h := range headers {
		if headerName(h) != "content-length" {
			continue
		}
		_, v, _ := strings.Cut(h, ":")
		v = strings.TrimSpace(v)
		if v == "" || len(v) > 9 || strings.Trim(v, "0123456789") != "" {
			return 0, true, reasonBadLength
		}
		var x int
		for i := 0; i < len(v); i++ {
			x = x*10 + int(v[i]-'0')
		}
		if present && x != n {
			return 0, true, reasonTwoLengths
		}
		n, present = x, true
	}
	return n, present, ""
}

// diagnose says what is wrong with a message sipgo could not parse.
func diagnose(m wireMessage, datagram bool) string {
	n, present, problem := contentLength(m.headers)
	switch {
	case problem != "":
		return problem
	case !m.ended:
		return reasonNoHeaderEnd
	case datagram && present && n > len(m.body):
		return reasonShortBody
	}
	if _, err := sip.ParseMessage([]byte(m.start + "\r\n\r\n")); err != nil {
		return reasonStartLine
	}
	parser := sip.HeadersParser(sip.DefaultHeadersParser())
	for _, h := range m.headers {
		if _, err := parser.ParseHeader(nil, []byte(h)); err != nil {
			if name, ok := canonicalNames[headerName(h)]; ok {
				return "malformed " + name + " header"
			}
			return "malformed header"
		}
	}
	return reasonUnparsable
}

// method is the request's method for a log line (quoted short), or "" for
// a response or a start line with no method.
func (m wireMessage) method() string {
	if strings.HasPrefix(m.start, "SIP/") {
		return ""
	}
	name, _, _ := strings.Cut(m.start, " ")
	return wire.Quote(name)
}

// salvage rebuilds the request m is from its start line and the headers
// that parse, without a body, so that it can be answered: nil unless that
// parses as a request (not an ACK) with a Via and a CSeq.
func (m wireMessage) salvage() *sip.Request {
	if strings.HasPrefix(m.start, "SIP/") {
		return nil // a response: discarded
	}
	parser := sip.HeadersParser(sip.DefaultHeadersParser())
	var b strings.Builder
	b.WriteString(m.start)
	b.WriteString("\r\n")
	for _, h := range m.headers {
		if headerName(h) == "content-length" {
			continue
		}
		if _, err := parser.ParseHeader(nil, []byte(h)); err != nil {
			continue
		}
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	msg, err := sip.ParseMessage([]byte(b.String()))
	if err != nil {
		return nil
	}
	req, ok := msg.(*sip.Request)
	if !ok || req.IsAck() || req.Via() == nil || req.CSeq() == nil {
		return nil
	}
	return req
}

// addrPort is a net.Addr's address and port (zero if it has none).
func addrPort(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.UDPAddr:
		ap = a.AddrPort()
	case *net.TCPAddr:
		ap = a.AddrPort()
	case nil:
		return ap
	default:
		ap, _ = netip.ParseAddrPort(a.String())
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
