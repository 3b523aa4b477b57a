package sipgw

import (
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A live call's dialog: Call-ID, our tag, the trunk's tag; its peer is the
// trunk (trunkIP).
const (
	liveCallID = "live-call-1@127.0.0.1"
	ourTag     = "our-tag-1"
	theirTag   = "their-tag-1"
)

func liveCall() *fakeCall {
	return &fakeCall{id: dialogID{callID: liveCallID, localTag: ourTag, localKnown: true,
		remoteTag: theirTag, remoteKnown: true, peers: prefixes(trunkIP)}}
}

// In-dialog requests reach the call only when they carry its Call-ID and
// both its tags and come from its peer; the rest are answered 403 (a source
// on no trunk's allow-list, or another trunk's) or 481 (no such dialog), and
// the call never sees them. ACKs are never answered.
func TestInDialogRequestsMustMatchTheDialogAndItsPeer(t *testing.T) {
	t.Parallel()
	g := startTestGateway(t, "")
	call := liveCall()
	g.addCall(call)
	gw := g.Addr()
	tests := []struct {
		name    string
		from    string // source address
		method  string
		callID  string
		fromTag string
		toTag   string
		status  int // 0: no answer at all
		reaches bool
	}{
		{"BYE from a stranger with the dialog's tags", strangerIP, "BYE", liveCallID, theirTag, ourTag, 403, false},
		{"BYE from a stranger with invented tags", strangerIP, "BYE", liveCallID, "x1", "x2", 403, false},
		{"BYE from a stranger for no call", strangerIP, "BYE", "no-such-call", "x1", "x2", 403, false},
		{"BYE from another trunk with the dialog's tags", otherIP, "BYE", liveCallID, theirTag, ourTag, 403, false},
		{"BYE from the peer with invented tags", trunkIP, "BYE", liveCallID, "x1", "x2", 481, false},
		{"BYE from the peer with our tag but not theirs", trunkIP, "BYE", liveCallID, "x1", ourTag, 481, false},
		{"BYE from the peer with their tag but not ours", trunkIP, "BYE", liveCallID, theirTag, "x2", 481, false},
		{"BYE from the peer with tags swapped", trunkIP, "BYE", liveCallID, ourTag, theirTag, 481, false},
		{"BYE from the peer without a To tag", trunkIP, "BYE", liveCallID, theirTag, "", 481, false},
		{"BYE from the peer for no call", trunkIP, "BYE", "no-such-call", theirTag, ourTag, 481, false},
		{"re-INVITE from a stranger with the dialog's tags", strangerIP, "INVITE", liveCallID, theirTag, ourTag, 403, false},
		{"re-INVITE from the peer with invented tags", trunkIP, "INVITE", liveCallID, "x1", "x2", 481, false},
		{"ACK from a stranger", strangerIP, "ACK", liveCallID, theirTag, ourTag, 0, false},
		{"ACK from the peer with invented tags", trunkIP, "ACK", liveCallID, "x1", "x2", 0, false},
		{"UPDATE from a stranger with the dialog's tags", strangerIP, "UPDATE", liveCallID, theirTag, ourTag, 403, false},
		{"UPDATE from the peer with invented tags", trunkIP, "UPDATE", liveCallID, "x1", "x2", 481, false},
		{"INFO from another trunk with the dialog's tags", otherIP, "INFO", liveCallID, theirTag, ourTag, 403, false},
		{"INFO from the peer with invented tags", trunkIP, "INFO", liveCallID, "x1", "x2", 481, false},
		{"PRACK from a stranger", strangerIP, "PRACK", liveCallID, theirTag, ourTag, 403, false},
		{"CANCEL from a stranger matching nothing", strangerIP, "CANCEL", liveCallID, theirTag, ourTag, 403, false},
		{"CANCEL from the peer matching nothing", trunkIP, "CANCEL", liveCallID, theirTag, ourTag, 481, false},
		{"re-INVITE of the dialog from its peer", trunkIP, "INVITE", liveCallID, theirTag, ourTag, 200, true},
		{"ACK of the dialog from its peer", trunkIP, "ACK", liveCallID, theirTag, ourTag, 0, true},
		{"BYE of the dialog from its peer", trunkIP, "BYE", liveCallID, theirTag, ourTag, 200, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			byes, reinvites, acks := call.counts()
			before := byes + reinvites + acks
			p := newUDPPeer(t, tt.from)
			body := ""
			if tt.method == "INVITE" {
				body = "v=0\r\no=- 1 1 IN IP4 " + tt.from + "\r\ns=-\r\nc=IN IP4 " + tt.from + "\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"
			}
			p.send(gw, sipRequest{method: tt.method, callID: tt.callID, fromTag: tt.fromTag, toTag: tt.toTag,
				via: p.addr, body: body, cseq: 5}.String())
			if tt.status != 0 {
				res := p.expect(tt.status)
				assert.Equal(t, tt.callID, res.CallID().Value())
			} else {
				// An ACK gets no answer; wait until the gateway has taken
				// it (the call counts it, or the refusal is logged).
				require.Eventually(t, func() bool {
					b, r, a := call.counts()
					return b+r+a > before || len(g.log.lines("ACK", "SIP request refused")) > 0
				}, 5*time.Second, 5*time.Millisecond)
				assert.Nil(t, p.read(50*time.Millisecond), "an ACK is never answered")
			}
			byes, reinvites, acks = call.counts()
			if tt.reaches {
				assert.Equal(t, before+1, byes+reinvites+acks, "the call got the request")
			} else {
				assert.Equal(t, before, byes+reinvites+acks, "the call never saw the request")
			}
		})
	}
	byes, reinvites, acks := call.counts()
	assert.Equal(t, [3]int{1, 1, 1}, [3]int{byes, reinvites, acks})
	// Refusals are logged (sampled): each says who, what and why, briefly.
	for _, l := range g.log.lines("SIP request refused") {
		assert.Less(t, len(l), 400, l)
		assert.Contains(t, l, "source=")
		assert.Contains(t, l, "reason=")
	}
	assert.NotEmpty(t, g.log.lines("SIP request refused", "source=127.0.0.2", `reason="BYE: source not on any trunk's allow-list"`))
	assert.NotEmpty(t, g.log.lines("SIP request refused", "source=127.0.0.3", `reason="BYE: source is not the dialog's peer"`))
	assert.NotEmpty(t, g.log.lines("SIP request refused", "source=127.0.0.1", `reason="BYE: tags do not match the dialog"`))
}

// admitInDialog, table-driven without the network: the dialog's identity
// as the calls give it, including an outbound call before its answer, whose
// far-end tag is not known yet.
func TestAdmitInDialog(t *testing.T) {
	g := &Gateway{
		log: slog.New(slog.DiscardHandler), calls: map[string]dialogCall{}, inviteTags: map[string]string{},
		sampler: newSampler(time.Minute), allow: prefixes(trunkIP, otherIP),
	}
	answered := liveCall()
	early := &fakeCall{id: dialogID{callID: "early", localTag: ourTag, localKnown: true, peers: prefixes(trunkIP)}}
	earlyNoTag := &fakeCall{id: dialogID{callID: "early-untagged", peers: prefixes(trunkIP)}}
	rfc2543 := &fakeCall{id: dialogID{callID: "old", localTag: ourTag, localKnown: true, remoteKnown: true, peers: prefixes(trunkIP)}}
	for _, c := range []*fakeCall{answered, early, earlyNoTag, rfc2543} {
		g.addCall(c)
	}
	tests := []struct {
		name, src, callID, fromTag, toTag string
		want                              dialogCall
		status                            int
	}{
		{"answered, all matches", trunkIP, liveCallID, theirTag, ourTag, answered, 0},
		{"answered, wrong source", strangerIP, liveCallID, theirTag, ourTag, nil, 403},
		{"answered, other trunk", otherIP, liveCallID, theirTag, ourTag, nil, 403},
		{"answered, Call-ID case differs", trunkIP, "LIVE-CALL-1@127.0.0.1", theirTag, ourTag, nil, 481},
		{"answered, tag case differs", trunkIP, liveCallID, "THEIR-TAG-1", ourTag, nil, 481},
		{"early, any far-end tag", trunkIP, "early", "branch-2", ourTag, early, 0},
		{"early, not our tag", trunkIP, "early", "branch-2", "x", nil, 481},
		{"early, no To tag", trunkIP, "early", "branch-2", "", nil, 481},
		{"early without our tag known, some To tag", trunkIP, "early-untagged", "b", "t", earlyNoTag, 0},
		{"early without our tag known, no To tag", trunkIP, "early-untagged", "b", "", nil, 481},
		{"peer without a From tag", trunkIP, "old", "", ourTag, rfc2543, 0},
		{"peer without a From tag, one given", trunkIP, "old", "x", ourTag, nil, 481},
		{"unknown call from a trunk", otherIP, "nope", "a", "b", nil, 481},
		{"unknown call from a stranger", strangerIP, "nope", "a", "b", nil, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := netip.AddrPortFrom(netip.MustParseAddr(tt.src), 5060)
			msg, err := sip.ParseMessage([]byte(sipRequest{method: "BYE", callID: tt.callID, fromTag: tt.fromTag,
				toTag: tt.toTag, via: src}.String()))
			require.NoError(t, err)
			req := msg.(*sip.Request)
			req.SetSource(src.String())
			c, status, reason := g.admitInDialog(req)
			assert.Equal(t, tt.status, status, reason)
			if tt.want == nil {
				assert.Nil(t, c)
			} else {
				assert.Same(t, tt.want, c)
			}
			tx := &recordingTx{}
			got := g.inDialog(req, tx)
			if tt.status == 0 {
				assert.Same(t, tt.want, got)
				assert.Empty(t, tx.responses())
			} else {
				assert.Nil(t, got)
				require.Len(t, tx.responses(), 1)
				assert.Equal(t, tt.status, tx.responses()[0].StatusCode)
			}
		})
	}
}

// noteInvite gives an outbound call's early dialog our tag; it is forgotten
// with the call.
func TestNoteInviteRecordsOurTagWhileTheCallLives(t *testing.T) {
	g := &Gateway{calls: map[string]dialogCall{}, inviteTags: map[string]string{}}
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "1", Host: "h"})
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "me", Host: "h"}, Params: sip.NewParams()}
	from.Params.Add("tag", "abc")
	req.AppendHeader(from)
	g.noteInvite("c1", req)
	_, ok := g.inviteTag("c1")
	assert.False(t, ok, "only a tracked call's tag is kept")
	g.calls["c1"] = &fakeCall{}
	g.noteInvite("c1", req)
	tag, ok := g.inviteTag("c1")
	assert.True(t, ok)
	assert.Equal(t, "abc", tag)
	g.removeCall("c1")
	_, ok = g.inviteTag("c1")
	assert.False(t, ok)
}

// The outbound call's identity: the trunk's addresses and our INVITE's tag
// before the answer.
func TestOutCallIdentityBeforeTheAnswer(t *testing.T) {
	g := startTestGateway(t, "")
	c := &outCall{g: g.Gateway, sipID: "out-1", trunk: g.cfg.Trunks[1]}
	d := c.dialogIdentity()
	assert.Equal(t, "out-1", d.callID)
	assert.False(t, d.localKnown)
	assert.False(t, d.remoteKnown)
	assert.True(t, d.peers.allows(netip.MustParseAddr(otherIP)))
	assert.False(t, d.peers.allows(netip.MustParseAddr(trunkIP)), "the other trunk's call")
	g.mu.Lock()
	g.inviteTags["out-1"] = "t1"
	g.mu.Unlock()
	defer g.removeCall("out-1")
	d = c.dialogIdentity()
	assert.True(t, d.localKnown)
	assert.Equal(t, "t1", d.localTag)
}
