package server_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
	"github.com/onecxi/phone/server/accounts"
	"github.com/onecxi/phone/server/cdr"
	"github.com/onecxi/phone/wire"
)

func authCheck(t *testing.T, h *harness, account, key string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.base+wire.PathAuthCheck, nil)
	require.NoError(t, err)
	wire.SetCredentials(req.Header, account, key)
	resp, err := h.httpClient().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func TestTheConfigurationSeedsTheAccountsStore(t *testing.T) {
	t.Parallel()
	st := accounts.NewMemory()
	h := newHarness(t, harnessOpts{options: []server.Option{server.WithAccountStore(st)}})
	ctx := context.Background()
	all, err := st.List(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, "app:1002", all[0].DIDs["90100"])
	_, hs, err := st.Lookup(ctx, "acme")
	require.NoError(t, err)
	assert.Equal(t, []accounts.Hash{sha256.Sum256([]byte(h.keys["acme"]))}, hs, "the hash, never the key")
}

func TestAKeyAddedAtRunTimeSignsIn(t *testing.T) {
	t.Parallel()
	st := accounts.NewMemory()
	h := newHarness(t, harnessOpts{options: []server.Option{server.WithAccountStore(st)}})
	ctx := context.Background()

	// A new account, and a second key for a configured one: no restart.
	key := server.GenerateKey()
	assert.Equal(t, http.StatusUnauthorized, authCheck(t, h, "initech", key))
	require.NoError(t, st.Create(ctx, accounts.Account{Name: "initech", DIDs: map[string]string{"90000": "echo"}}))
	_, err := st.AddKey(ctx, "initech", sha256.Sum256([]byte(key)))
	require.NoError(t, err)
	h.keys["initech"] = key
	assert.Equal(t, http.StatusOK, authCheck(t, h, "initech", key))
	a := h.call("A", "initech", inbound("90000", "1001"))
	a.expect(wire.TypeAnswered)

	second := server.GenerateKey()
	_, err = st.AddKey(ctx, "acme", sha256.Sum256([]byte(second)))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, authCheck(t, h, "acme", second))
	assert.Equal(t, http.StatusOK, authCheck(t, h, "acme", h.keys["acme"]), "the first key still works")

	// A DID plan changed in the store is followed at once.
	require.NoError(t, st.SetDIDs(ctx, "initech", map[string]string{"90050": "ivr"}))
	b := h.call("B", "initech", inbound("90000", "1002"))
	b.expectError(wire.CodeNotFound)
}

func TestARevokedKeyIsRefusedAndLiveCallsGoOn(t *testing.T) {
	t.Parallel()
	st := accounts.NewMemory()
	h := newHarness(t, harnessOpts{options: []server.Option{server.WithAccountStore(st)}})
	ctx := context.Background()

	a := h.call("A", "acme", inbound("90000", "1001"))
	a.expect(wire.TypeAnswered)
	stop := a.streamTone(440, seqA)
	defer stop()

	n, err := st.Revoke(ctx, "acme", accounts.KeyID(sha256.Sum256([]byte(h.keys["acme"]))))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	assert.Equal(t, http.StatusUnauthorized, authCheck(t, h, "acme", h.keys["acme"]), "refused from the next request on")
	_, resp, err := h.dialRaw(wire.PathCall, h.creds("acme"), []string{wire.Subprotocol})
	require.Error(t, err)
	require.True(t, errors.Is(err, websocket.ErrBadHandshake))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a new call is refused")
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, authCheck(t, h, "globex", h.keys["globex"]), "another account is untouched")

	// The call that was up goes on to its end.
	require.Eventually(t, func() bool { return a.hears(440) }, waitAudio, tick, "the live call still echoes")
	a.send(wire.Message{Type: wire.TypePing, TS: 1})
	assert.Equal(t, int64(1), a.expectSkipping(wire.TypePong).TS)
}

// failingAccounts is an accounts store that is down.
type failingAccounts struct{ *accounts.Memory }

func (failingAccounts) Lookup(context.Context, string) (accounts.Account, []accounts.Hash, error) {
	return accounts.Account{}, nil, errors.New("connection refused")
}

func TestAnAccountsStoreFailureIsNotABadKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{options: []server.Option{server.WithAccountStore(failingAccounts{accounts.NewMemory()})}})
	resp, body := h.request(http.MethodPost, wire.PathAuthCheck, "acme")
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.Equal(t, wire.CodeInternal, body.Code)
}

func TestCallDetailRecords(t *testing.T) {
	t.Parallel()
	recs := cdr.NewMemory()
	h := newHarness(t, harnessOpts{
		mutate:  func(c *server.Config) { c.NodeID = "node-7" },
		options: []server.Option{server.WithCallRecords(recs)},
	})

	// An echo call.
	e := h.call("E", "acme", inbound("90000", "1001"))
	echoID := e.expect(wire.TypeAnswered).CallID
	time.Sleep(20 * time.Millisecond)
	e.send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup})
	e.waitClosed()
	h.events.waitFor(t, server.EventEnded, echoID)

	// An app-to-app call, answered, then hung up by the callee.
	a, _, in := ringB(t, h)
	b := h.call("B", "acme", appAnswer("1001", "1002", in.CallID))
	b.expect(wire.TypeAnswered)
	a.expect(wire.TypeAnswered)
	b.send(wire.Message{Type: wire.TypeEnd, Reason: wire.ReasonHangup})
	b.waitClosed()
	h.events.waitFor(t, server.EventEnded, in.CallID)

	// A declined call.
	bEvents := h.eventsFor("B2-events", "acme", "1002")
	c := h.call("C", "acme", appCall("1002", "1003"))
	declinedID := c.expect(wire.TypeRinging).CallID
	bEvents.expect(wire.TypeIncoming)
	resp, _ := h.request(http.MethodPost, wire.DeclinePath(declinedID), "acme")
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	h.events.waitFor(t, server.EventEnded, declinedID)

	var got []cdr.Record
	require.Eventually(t, func() bool {
		got, _ = recs.List(context.Background(), cdr.Query{})
		closed := 0
		for _, r := range got {
			if !r.Open() {
				closed++
			}
		}
		return len(got) == 3 && closed == 3
	}, waitMsg, tick, "written by the writer goroutine")
	// Written open when it starts (and again when an app call is
	// answered), closed when it ends: 2 + 3 + 2.
	assert.Equal(t, cdr.WriterStats{Written: 7}, h.srv.CallRecordStats())
	byID := map[string]cdr.Record{}
	for _, r := range got {
		byID[r.CallID] = r
		assert.Equal(t, "acme", r.Account)
		assert.Equal(t, "node-7", r.Node)
		assert.False(t, r.Start.IsZero())
		assert.False(t, r.End.Before(r.Start))
	}

	echo := byID[echoID]
	assert.Equal(t, string(wire.KindInbound), echo.Kind)
	assert.Equal(t, "1001", echo.From)
	assert.Equal(t, "90000", echo.To)
	assert.False(t, echo.Answer.IsZero())
	assert.Positive(t, echo.Duration)
	assert.Equal(t, echo.End.Sub(echo.Answer), echo.Duration)
	assert.Equal(t, wire.ReasonHangup, echo.Reason)

	app := byID[in.CallID]
	assert.Equal(t, string(wire.KindAppToApp), app.Kind)
	assert.Equal(t, "1001", app.From)
	assert.Equal(t, "1002", app.To)
	assert.False(t, app.Answer.IsZero())
	assert.Equal(t, wire.ReasonHangup, app.Reason)

	dec := byID[declinedID]
	assert.Equal(t, string(wire.KindAppToApp), dec.Kind)
	assert.Equal(t, "1003", dec.From)
	assert.True(t, dec.Answer.IsZero(), "never answered")
	assert.Zero(t, dec.Duration)
	assert.Equal(t, wire.ReasonDeclined, dec.Reason)
}

func TestADatabaseNeedsItsStores(t *testing.T) {
	t.Parallel()
	cfg, _ := testConfig()
	cfg.Database = "sqlite:/tmp/x.db"
	_, err := server.New(cfg, server.WithLogger(testLogger()))
	require.ErrorIs(t, err, server.ErrInvalidConfig)
	assert.ErrorContains(t, err, "WithAccountStore")
}
