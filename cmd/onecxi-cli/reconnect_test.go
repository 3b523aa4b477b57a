package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/onecxi/phone/callcore"
	"github.com/onecxi/phone/server/servertest"
)

func TestPrintsReconnectsAndTheEndReason(t *testing.T) {
	var out servertest.SyncBuffer
	p := newPrinter(&out)
	p.OnCallReconnecting(false)
	p.OnCallReconnected(false)
	p.OnCallReconnecting(true)
	p.OnCallReconnected(true)
	p.OnCallEndReason(callcore.CallTypeAppToApp, callcore.EndReasonNetworkLost)
	p.OnCallEndReason(callcore.CallTypeOutbound, callcore.EndReasonTrunkFailed)

	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		got = append(got, l[strings.Index(l, "s  ")+3:]) // without the elapsed time
	}
	assert.Equal(t, []string{
		"reconnect  the call's connection was lost; reconnecting",
		"resumed    the call is back on a new connection",
		"reconnect  the far end's connection was lost; it is reconnecting",
		"resumed    the far end is back",
		"end reason network_lost: Your connection was lost and could not be restored.",
		"end reason trunk_failed: The telephone network could not complete the call.",
	}, got)
}

func TestDescribeStatusReconnecting(t *testing.T) {
	st := callcore.CallStatus{}.WithState(callcore.CallStateActive)
	for _, tc := range []struct {
		status callcore.CallStatus
		want   string
	}{
		{st.WithReconnecting(true), "active, reconnecting"},
		{st.WithRemoteReconnecting(true), "active, far end reconnecting"},
		{st.WithMuted(true).WithReconnecting(true).WithRemoteReconnecting(true), "active, muted, reconnecting, far end reconnecting"},
	} {
		assert.Equal(t, tc.want, describeStatus(tc.status, false))
	}
}

func TestFormatStatsEndReasonAndResumes(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := callcore.CallStats{
		CallID: "c_1", CallType: callcore.CallTypeAppToApp, Number: "1002",
		StartedAt: start, AnsweredAt: start.Add(12 * time.Millisecond), EndedAt: start.Add(3012 * time.Millisecond),
		Duration: 3 * time.Second,
	}
	for _, tc := range []struct {
		resumes int
		reason  callcore.EndReason
		want    string
	}{
		{0, "", "call c_1, app_to_app with 1002: answered after 12ms, talked 3.00s"},
		{0, callcore.EndReasonRemoteHangup, "call c_1, app_to_app with 1002: answered after 12ms, talked 3.00s; ended: remote_hangup"},
		{1, callcore.EndReasonHangup, "call c_1, app_to_app with 1002: answered after 12ms, talked 3.00s, resumed once; ended: hangup"},
		{3, callcore.EndReasonNetworkLost, "call c_1, app_to_app with 1002: answered after 12ms, talked 3.00s, resumed 3 times; ended: network_lost"},
	} {
		st.Resumes, st.EndReason = tc.resumes, tc.reason
		assert.Equal(t, tc.want, formatStats(st)[0])
	}
}
