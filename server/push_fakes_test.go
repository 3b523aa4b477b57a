package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v4"
	"github.com/stretchr/testify/require"

	"github.com/onecxi/phone/server"
)

// Fake push providers: a TLS HTTP/2 APNs and an FCM HTTP v1 endpoint with
// its OAuth token endpoint. They record every request and answer from a
// per-token script, so tests can assert the exact headers and payloads and
// make a provider fail the way it really does.

const (
	fakeKeyID      = "ABC123DEFG"
	fakeTeamID     = "TEAM123456"
	fakeBundleID   = "com.onecxi.phone"
	fakeProject    = "onecxi-test"
	fakeOAuthToken = "ya29.fake-access-token"
)

// pushReq is one request a fake provider received.
type pushReq struct {
	token  string
	header http.Header
	body   map[string]any
}

// reply is a scripted provider answer.
type reply struct {
	status int
	body   string
	header map[string]string
}

type fakeProvider struct {
	mu     sync.Mutex
	reqs   []pushReq
	script map[string][]reply // by token; empty: 200
}

func (f *fakeProvider) record(r pushReq) reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, r)
	if s := f.script[r.token]; len(s) > 0 {
		f.script[r.token] = s[1:]
		return s[0]
	}
	return reply{status: http.StatusOK}
}

func (f *fakeProvider) requests() []pushReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]pushReq(nil), f.reqs...)
}

// events returns the "event" field of every request for token, in order.
func (f *fakeProvider) events(token string, field func(pushReq) string) []string {
	var out []string
	for _, r := range f.requests() {
		if r.token == token {
			out = append(out, field(r))
		}
	}
	return out
}

func (f *fakeProvider) fail(token string, rs ...reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[token] = append(f.script[token], rs...)
}

// pushFakes is both providers and the server configuration pointing at them.
type pushFakes struct {
	apns, fcm *fakeProvider
	apnsKey   *ecdsa.PrivateKey
	cfg       server.PushConfig
	client    *http.Client
}

func newPushFakes(t *testing.T) *pushFakes {
	t.Helper()
	dir := t.TempDir()
	pf := &pushFakes{apns: &fakeProvider{script: map[string][]reply{}}, fcm: &fakeProvider{script: map[string][]reply{}}}

	// APNs: token auth with an ES256 .p8 key.
	var err error
	pf.apnsKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(pf.apnsKey)
	require.NoError(t, err)
	p8 := filepath.Join(dir, "AuthKey.p8")
	require.NoError(t, os.WriteFile(p8, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	apns := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &body)
		tok := strings.TrimPrefix(r.URL.Path, "/3/device/")
		rep := pf.apns.record(pushReq{token: tok, header: r.Header.Clone(), body: body})
		if r.ProtoMajor != 2 {
			rep = reply{status: http.StatusBadRequest, body: `{"reason":"HTTP/2 required"}`}
		}
		w.Header().Set("apns-id", "fake-apns-id")
		w.WriteHeader(rep.status)
		_, _ = io.WriteString(w, rep.body)
	}))
	apns.EnableHTTP2 = true
	apns.StartTLS()
	t.Cleanup(apns.Close)
	pf.client = apns.Client() // trusts the fake's certificate, speaks HTTP/2; plain http for FCM

	// FCM: a service account whose token_uri is the fake.
	fcm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"access_token":"`+fakeOAuthToken+`","token_type":"Bearer","expires_in":3600}`)
			return
		}
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &body)
		tok, _ := dig(body, "message", "token").(string)
		rep := pf.fcm.record(pushReq{token: tok, header: r.Header.Clone(), body: body})
		if r.URL.Path != "/v1/projects/"+fakeProject+"/messages:send" || r.Method != http.MethodPost {
			rep = reply{status: http.StatusNotFound, body: `{"error":{"code":404,"status":"NOT_FOUND","message":"bad path"}}`}
		}
		for k, v := range rep.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		if rep.body == "" {
			rep.body = `{"name":"projects/` + fakeProject + `/messages/1"}`
		}
		_, _ = io.WriteString(w, rep.body)
	}))
	t.Cleanup(fcm.Close)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	rsaDER, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	require.NoError(t, err)
	sa, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": fakeProject, "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rsaDER})),
		"client_email": "push@" + fakeProject + ".iam.gserviceaccount.com", "client_id": "1",
		"token_uri": fcm.URL + "/token",
	})
	require.NoError(t, err)
	saFile := filepath.Join(dir, "service-account.json")
	require.NoError(t, os.WriteFile(saFile, sa, 0o600))

	pf.cfg = server.PushConfig{
		APNs: &server.APNsConfig{KeyFile: p8, KeyID: fakeKeyID, TeamID: fakeTeamID, BundleID: fakeBundleID, Host: apns.URL},
		FCM:  &server.FCMConfig{ProjectID: fakeProject, CredentialsFile: saFile, Endpoint: fcm.URL + "/"},
	}
	return pf
}

// harness starts a server using the fakes, with a memory device store the
// test can inspect.
func (pf *pushFakes) harness(t *testing.T, store server.DeviceStore) *harness {
	return newHarness(t, harnessOpts{
		mutate:  func(c *server.Config) { c.Push = pf.cfg },
		options: []server.Option{server.WithPushHTTPClient(pf.client), server.WithDeviceStore(store)},
	})
}

// checkAPNsAuth verifies the provider token: ES256, our key ID and team.
func (pf *pushFakes) checkAPNsAuth(t *testing.T, h http.Header) {
	t.Helper()
	auth := h.Get("Authorization")
	require.True(t, strings.HasPrefix(auth, "bearer "), "APNs wants a bearer provider token, got %q", auth)
	tok, err := jwt.Parse(strings.TrimPrefix(auth, "bearer "), func(tk *jwt.Token) (any, error) {
		require.Equal(t, "ES256", tk.Method.Alg())
		require.Equal(t, fakeKeyID, tk.Header["kid"])
		return &pf.apnsKey.PublicKey, nil
	})
	require.NoError(t, err)
	claims := tok.Claims.(jwt.MapClaims)
	require.Equal(t, fakeTeamID, claims["iss"])
}

// dig walks nested JSON objects.
func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}
