package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/server/providers"
	"github.com/onecxi/phone/server/push"
	"github.com/onecxi/phone/server/push/pushtest"
	"github.com/onecxi/phone/wire"
)

// pushHarness starts a server using the fakes, with store as its registry.
func pushHarness(t *testing.T, pf *pushtest.Fakes, store devices.Store) *harness {
	return newHarness(t, harnessOpts{
		mutate:  func(c *server.Config) { c.Push = pf.Config },
		options: []server.Option{server.WithPush(pf.Transports(t)...), server.WithDeviceStore(store)},
	})
}

var (
	iosToken     = strings.Repeat("a1", 32)
	androidToken = "fcm-token:APA91b_android"
)

// registerPushDevices registers an iPhone and an Android phone for 1002.
func registerPushDevices(t *testing.T, h *harness) {
	t.Helper()
	for _, body := range []string{
		`{"deviceId":"iphone","registeredNumber":"1002","platform":"ios","voipToken":"` + iosToken + `"}`,
		`{"deviceId":"pixel","registeredNumber":"1002","platform":"android","fcmToken":"` + androidToken + `"}`,
	} {
		status, e := h.register("acme", body)
		require.Equal(t, http.StatusNoContent, status, "%+v", e)
	}
}

func apnsEvent(r pushtest.Request) string { s, _ := r.Body["event"].(string); return s }
func fcmEvent(r pushtest.Request) string {
	s, _ := pushtest.Dig(r.Body, "message", "data", "event").(string)
	return s
}

func TestPushRingsEveryDeviceWithTheGuidesPayload(t *testing.T) {
	t.Parallel()
	pf := pushtest.New(t)
	h := pushHarness(t, pf, devices.NewMemory())
	registerPushDevices(t, h)

	// 1002 has no app open: push alone makes it reachable.
	a := h.call("A", "acme", appCall("1002", "1001"))
	ringing := a.expect(wire.TypeRinging)
	require.Eventually(t, func() bool { return len(pf.APNs.Requests()) == 1 && len(pf.FCM.Requests()) == 1 }, waitMsg, tick)

	ap := pf.APNs.Requests()[0]
	assert.Equal(t, iosToken, ap.Token)
	assert.Equal(t, "voip", ap.Header.Get("apns-push-type"))
	assert.Equal(t, pushtest.BundleID+".voip", ap.Header.Get("apns-topic"))
	assert.Equal(t, "10", ap.Header.Get("apns-priority"))
	assert.Equal(t, "0", ap.Header.Get("apns-expiration"))
	pf.CheckAPNsAuth(t, ap.Header)
	ts, ok := ap.Body["timestamp"].(float64)
	require.True(t, ok, "timestamp is a number in the APNs payload")
	assert.Equal(t, map[string]any{
		"callFrom": "1001", "callTo": "1002", "callType": "APPTOAPP", "registeredNumber": "1002",
		"callerName": "1001", "callId": ringing.CallID, "environment": "DEVELOPMENT",
		"timestamp": ts, "platform": "ios", "event": "initial",
	}, ap.Body, "exactly the guide's payload")

	fr := pf.FCM.Requests()[0]
	assert.Equal(t, "Bearer "+pushtest.OAuthToken, fr.Header.Get("Authorization"))
	msg := pushtest.Dig(fr.Body, "message").(map[string]any)
	assert.Equal(t, androidToken, msg["token"])
	assert.NotContains(t, msg, "notification", "data-only, so the app's background handler runs")
	assert.Equal(t, map[string]any{"priority": "HIGH", "ttl": "0s"}, msg["android"])
	data := msg["data"].(map[string]any)
	assert.Regexp(t, `^\d{13}$`, data["timestamp"], "FCM data values are strings")
	delete(data, "timestamp")
	assert.Equal(t, map[string]any{
		"callFrom": "1001", "callTo": "1002", "callType": "APPTOAPP", "registeredNumber": "1002",
		"callerName": "1001", "callId": ringing.CallID, "environment": "DEVELOPMENT",
		"platform": "android", "event": "initial",
	}, data)

	// The caller hangs up while ringing: every device hears "end".
	a.send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup})
	require.Eventually(t, func() bool {
		return len(pf.APNs.Events(iosToken, apnsEvent)) == 2 && len(pf.FCM.Events(androidToken, fcmEvent)) == 2
	}, waitMsg, tick)
	assert.Equal(t, []string{"initial", "end"}, pf.APNs.Events(iosToken, apnsEvent))
	assert.Equal(t, []string{"initial", "end"}, pf.FCM.Events(androidToken, fcmEvent))
	assert.Equal(t, uint64(4), h.srv.Stats().Push.Sent)
}

func TestPushFirstAnswerWinsAndTheOthersStop(t *testing.T) {
	t.Parallel()
	pf := pushtest.New(t)
	h := pushHarness(t, pf, devices.NewMemory())
	registerPushDevices(t, h)
	desk := h.eventsFor("desk", "acme", "1002")

	a := h.call("A", "acme", appCall("1002", "1001"))
	a.expect(wire.TypeRinging)
	in := desk.expect(wire.TypeIncoming)
	b := h.call("B", "acme", appAnswer("1001", "1002", in.CallID))
	b.expect(wire.TypeAnswered)
	a.expect(wire.TypeAnswered)

	require.Eventually(t, func() bool {
		return len(pf.APNs.Events(iosToken, apnsEvent)) == 2 && len(pf.FCM.Events(androidToken, fcmEvent)) == 2
	}, waitMsg, tick)
	assert.Equal(t, []string{"initial", "end"}, pf.APNs.Events(iosToken, apnsEvent), "the phones stop ringing")
	assert.Equal(t, []string{"initial", "end"}, pf.FCM.Events(androidToken, fcmEvent))
}

func TestPushPrunesDeadTokens(t *testing.T) {
	t.Parallel()
	pf := pushtest.New(t)
	store := devices.NewMemory()
	h := pushHarness(t, pf, store)
	registerPushDevices(t, h)
	pf.APNs.Fail(iosToken, pushtest.Reply{Status: http.StatusGone, Body: `{"reason":"Unregistered","timestamp":1711800000000}`})
	pf.FCM.Fail(androidToken, pushtest.Reply{Status: http.StatusNotFound, Body: `{"error":{"code":404,"status":"NOT_FOUND","message":"Requested entity was not found.",` +
		`"details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`})

	a := h.call("A", "acme", appCall("1002", "1001"))
	a.expect(wire.TypeRinging)
	require.Eventually(t, func() bool {
		devs, err := store.ByNumber(context.Background(), "acme", "1002")
		return err == nil && len(devs) == 0
	}, waitMsg, tick, "both dead tokens are forgotten")
	assert.Equal(t, uint64(2), h.srv.Stats().Push.Pruned)
}

func TestPushBadDeviceTokenIsPrunedButATopicMismatchIsNot(t *testing.T) {
	t.Parallel()
	pf := pushtest.New(t)
	store := devices.NewMemory()
	h := pushHarness(t, pf, store)
	other := strings.Repeat("b2", 32)
	for _, body := range []string{
		`{"deviceId":"bad","registeredNumber":"1002","platform":"ios","voipToken":"` + iosToken + `"}`,
		`{"deviceId":"topic","registeredNumber":"1002","platform":"ios","voipToken":"` + other + `"}`,
	} {
		status, _ := h.register("acme", body)
		require.Equal(t, http.StatusNoContent, status)
	}
	pf.APNs.Fail(iosToken, pushtest.Reply{Status: http.StatusBadRequest, Body: `{"reason":"BadDeviceToken"}`})
	pf.APNs.Fail(other, pushtest.Reply{Status: http.StatusBadRequest, Body: `{"reason":"DeviceTokenNotForTopic"}`})

	a := h.call("A", "acme", appCall("1002", "1001"))
	a.expect(wire.TypeRinging)
	require.Eventually(t, func() bool { return h.srv.Stats().Push.Pruned == 1 && h.srv.Stats().Push.Rejected == 1 }, waitMsg, tick)
	devs, err := store.ByNumber(context.Background(), "acme", "1002")
	require.NoError(t, err)
	require.Len(t, devs, 1, "a bundle-ID mistake must not unregister everyone")
	assert.Equal(t, "topic", devs[0].DeviceID)
}

func TestPushRetriesWhatTheProviderDefers(t *testing.T) {
	t.Parallel()
	pf := pushtest.New(t)
	h := pushHarness(t, pf, devices.NewMemory())
	registerPushDevices(t, h)
	pf.FCM.Fail(androidToken,
		pushtest.Reply{Status: http.StatusServiceUnavailable, Body: `{"error":{"code":503,"status":"UNAVAILABLE","message":"try later"}}`},
		pushtest.Reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "1"},
			Body: `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"quota",` +
				`"details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"QUOTA_EXCEEDED"}]}}`})
	pf.APNs.Fail(iosToken, pushtest.Reply{Status: http.StatusServiceUnavailable, Body: `{"reason":"ServiceUnavailable"}`})

	a := h.call("A", "acme", appCall("1002", "1001"))
	a.expect(wire.TypeRinging)
	require.Eventually(t, func() bool {
		return len(pf.FCM.Events(androidToken, fcmEvent)) == 3 && len(pf.APNs.Events(iosToken, apnsEvent)) == 2
	}, waitMsg, tick)
	require.Eventually(t, func() bool { return h.srv.Stats().Push.Sent == 2 }, waitMsg, tick)
	st := h.srv.Stats().Push
	assert.Equal(t, uint64(3), st.Retried)
	assert.Zero(t, st.Pruned)
	assert.Equal(t, []string{"initial", "initial", "initial"}, pf.FCM.Events(androidToken, fcmEvent), "the same push, again")
}

func TestUnregisteredNumberWithoutPushIsUnreachable(t *testing.T) {
	t.Parallel()
	pf := pushtest.New(t)
	h := pushHarness(t, pf, devices.NewMemory())
	// A desktop registration has no token: it only rings through events.
	status, _ := h.register("acme", `{"deviceId":"desk","registeredNumber":"1002","platform":"desktop"}`)
	require.Equal(t, http.StatusNoContent, status)
	a := h.call("A", "acme", appCall("1002", "1001"))
	a.expectError(wire.CodeUnreachable)
	assert.Empty(t, pf.APNs.Requests())
	assert.Empty(t, pf.FCM.Requests())
}

func TestPushConfigValidation(t *testing.T) {
	t.Parallel()
	good := func() push.Config {
		return push.Config{
			APNs: &push.APNsConfig{KeyFile: "k.p8", KeyID: pushtest.KeyID, TeamID: pushtest.TeamID, BundleID: pushtest.BundleID},
			FCM:  &push.FCMConfig{ProjectID: pushtest.Project, CredentialsFile: "sa.json"},
		}
	}
	tests := []struct {
		name   string
		mutate func(*push.Config)
		want   string
	}{
		{"no key file", func(p *push.Config) { p.APNs.KeyFile = "" }, "push.apns.keyFile"},
		{"bad key id", func(p *push.Config) { p.APNs.KeyID = "abc" }, "push.apns.keyId"},
		{"bad team", func(p *push.Config) { p.APNs.TeamID = "" }, "push.apns.teamId"},
		{"bad bundle", func(p *push.Config) { p.APNs.BundleID = "com example" }, "push.apns.bundleId"},
		{"bad host", func(p *push.Config) { p.APNs.Host = "ftp://x" }, "push.apns.host"},
		{"bad project", func(p *push.Config) { p.FCM.ProjectID = "X" }, "push.fcm.projectId"},
		{"no credentials", func(p *push.Config) { p.FCM.CredentialsFile = "" }, "push.fcm.credentialsFile"},
		{"bad endpoint", func(p *push.Config) { p.FCM.Endpoint = "fcm" }, "push.fcm.endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _ := testConfig()
			cfg.Push = good()
			tt.mutate(&cfg.Push)
			err := cfg.Validate()
			require.ErrorIs(t, err, server.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	cfg, _ := testConfig()
	cfg.Push = good()
	require.NoError(t, cfg.Validate())
	_, err := providers.Open(context.Background(), cfg, nil)
	require.ErrorIs(t, err, server.ErrInvalidConfig, "a missing key file fails at start, not at the first call")
	_, err = server.New(cfg, server.WithLogger(testLogger()))
	require.ErrorIs(t, err, server.ErrInvalidConfig, "push configured without its transports is not silently dropped")
}

func TestPushEndCancelsAPendingRetry(t *testing.T) {
	t.Parallel()
	pf := pushtest.New(t)
	h := pushHarness(t, pf, devices.NewMemory())
	registerPushDevices(t, h)
	pf.APNs.Fail(iosToken, pushtest.Reply{Status: http.StatusServiceUnavailable, Body: `{"reason":"ServiceUnavailable"}`})

	a := h.call("A", "acme", appCall("1002", "1001"))
	a.expect(wire.TypeRinging)
	require.Eventually(t, func() bool { return h.srv.Stats().Push.Retried == 1 }, waitMsg, tick)
	a.send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup}) // before the retry is due
	require.Eventually(t, func() bool { return len(pf.APNs.Events(iosToken, apnsEvent)) == 2 }, waitMsg, tick)
	// Well past the retry's due time (the first backoff), nothing more came.
	require.Never(t, func() bool { return len(pf.APNs.Events(iosToken, apnsEvent)) > 2 }, 1500*time.Millisecond, 50*time.Millisecond)
	assert.Equal(t, []string{"initial", "end"}, pf.APNs.Events(iosToken, apnsEvent), "the call that ended does not ring late")
}

func TestTestPushReportsEveryDevice(t *testing.T) {
	t.Parallel()
	pf := pushtest.New(t)
	store := devices.NewMemory()
	h := pushHarness(t, pf, store)
	registerPushDevices(t, h)
	pf.FCM.Fail(androidToken, pushtest.Reply{Status: http.StatusNotFound, Body: `{"error":{"code":404,"status":"NOT_FOUND",` +
		`"details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`})

	reports, err := h.srv.TestPush(context.Background(), "acme", "1002", 0)
	require.NoError(t, err)
	require.Len(t, reports, 2)
	byDevice := map[string]push.Report{}
	for _, r := range reports {
		byDevice[r.DeviceID] = r
		assert.NotContains(t, r.Token, "APA91b", "tokens are reported redacted")
	}
	assert.Equal(t, "sent", byDevice["iphone"].Result)
	assert.Equal(t, "token removed", byDevice["pixel"].Result)
	assert.Contains(t, byDevice["pixel"].Err, "UNREGISTERED")

	assert.Equal(t, []string{"initial", "end"}, pf.APNs.Events(iosToken, apnsEvent), "the test call stops ringing")
	assert.Equal(t, "OneCxi test push", pf.APNs.Requests()[0].Body["callerName"])
	devs, _ := store.ByNumber(context.Background(), "acme", "1002")
	assert.Len(t, devs, 1)

	_, err = h.srv.TestPush(context.Background(), "acme", "not a number", 0)
	assert.Error(t, err)
	plain := newHarness(t, harnessOpts{})
	_, err = plain.srv.TestPush(context.Background(), "acme", "1002", 0)
	assert.ErrorIs(t, err, server.ErrNoPush)
}
