package sip_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// With only A-law offered, baresip (which prefers µ-law) must answer PCMA,
// and the tones still cross both ways.
func TestOutboundCallInALaw(t *testing.T) {
	t.Parallel()
	b := startBaresip(t, baresipOptions{toneHz: baresipTone, user: bobNumber, trace: true})
	e := startGateway(t, strings.Replace(trunkTo(b.sipPort, ""), `"listen"`, `"codecs":["PCMA"],"listen"`, 1), nil)
	a := e.newPhone(t, appTone)

	a.callBob()
	// baresip's 200 answers PCMA (8) and telephone-event (101).
	b.waitLog(`(?s)SIP/2\.0 200 Answering\r?\n[^#]*?CSeq: \d+ INVITE\r?\n[^#]*?m=audio \d+ RTP/AVP 8 101\r?\n`, waitEvent)
	a.hears(baresipTone)
	baresipHears(t, b, appTone)
	require.NoError(t, a.sdk.EndCall(testCtx(t)))
	a.waitFor("ended outbound " + bobNumber)
}
