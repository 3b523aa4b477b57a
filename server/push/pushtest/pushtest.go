// Package pushtest is a fake APNs (TLS, HTTP/2) and a fake FCM HTTP v1 with
// its OAuth token endpoint, for tests of push delivery. They record every
// request and answer from a per-token script, so a test can assert the exact
// headers and payloads and make a provider fail the way it really does.
// Only tests import it.
package pushtest

import (
	"context"
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

	"github.com/onecxi/phone/server/push"
	"github.com/onecxi/phone/server/push/apns"
	"github.com/onecxi/phone/server/push/fcm"
)

// Identities the fakes expect.
const (
	KeyID      = "ABC123DEFG"
	TeamID     = "TEAM123456"
	BundleID   = "com.onecxi.phone"
	Project    = "onecxi-test"
	OAuthToken = "ya29.fake-access-token"
)

// Request is one request a fake provider received.
type Request struct {
	Token  string
	Header http.Header
	Body   map[string]any
}

// Reply is a scripted provider answer.
type Reply struct {
	Status int
	Body   string
	Header map[string]string
}

// Provider is one fake push provider.
type Provider struct {
	mu     sync.Mutex
	reqs   []Request
	script map[string][]Reply // by token; empty: 200
}

func (f *Provider) record(r Request) Reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, r)
	if s := f.script[r.Token]; len(s) > 0 {
		f.script[r.Token] = s[1:]
		return s[0]
	}
	return Reply{Status: http.StatusOK}
}

// Requests returns what the provider has received, in order.
func (f *Provider) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.reqs...)
}

// Events returns field of every request for token, in order.
func (f *Provider) Events(token string, field func(Request) string) []string {
	var out []string
	for _, r := range f.Requests() {
		if r.Token == token {
			out = append(out, field(r))
		}
	}
	return out
}

// Fail scripts the next answers for token (later ones get 200).
func (f *Provider) Fail(token string, rs ...Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[token] = append(f.script[token], rs...)
}

// Fakes is both providers and the server configuration pointing at them.
type Fakes struct {
	APNs, FCM *Provider
	apnsKey   *ecdsa.PrivateKey
	// Config points a server at the fakes; Client must be its push HTTP
	// client (providers.Open's): it trusts the fake APNs. Transports
	// builds both with them.
	Config push.Config
	Client *http.Client
}

// New starts both fakes for the test's life.
func New(t *testing.T) *Fakes {
	t.Helper()
	dir := t.TempDir()
	pf := &Fakes{APNs: &Provider{script: map[string][]Reply{}}, FCM: &Provider{script: map[string][]Reply{}}}

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
		rep := pf.APNs.record(Request{Token: tok, Header: r.Header.Clone(), Body: body})
		if r.ProtoMajor != 2 {
			rep = Reply{Status: http.StatusBadRequest, Body: `{"reason":"HTTP/2 required"}`}
		}
		w.Header().Set("apns-id", "fake-apns-id")
		w.WriteHeader(rep.Status)
		_, _ = io.WriteString(w, rep.Body)
	}))
	apns.EnableHTTP2 = true
	apns.StartTLS()
	t.Cleanup(apns.Close)
	pf.Client = apns.Client() // trusts the fake's certificate, speaks HTTP/2; plain http for FCM

	// FCM: a service account whose token_uri is the fake.
	fcm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"access_token":"`+OAuthToken+`","token_type":"Bearer","expires_in":3600}`)
			return
		}
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &body)
		tok, _ := Dig(body, "message", "token").(string)
		rep := pf.FCM.record(Request{Token: tok, Header: r.Header.Clone(), Body: body})
		if r.URL.Path != "/v1/projects/"+Project+"/messages:send" || r.Method != http.MethodPost {
			rep = Reply{Status: http.StatusNotFound, Body: `{"error":{"code":404,"status":"NOT_FOUND","message":"bad path"}}`}
		}
		for k, v := range rep.Header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.Status)
		if rep.Body == "" {
			rep.Body = `{"name":"projects/` + Project + `/messages/1"}`
		}
		_, _ = io.WriteString(w, rep.Body)
	}))
	t.Cleanup(fcm.Close)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	rsaDER, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	require.NoError(t, err)
	sa, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": Project, "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rsaDER})),
		"client_email": "push@" + Project + ".iam.gserviceaccount.com", "client_id": "1",
		"token_uri": fcm.URL + "/token",
	})
	require.NoError(t, err)
	saFile := filepath.Join(dir, "service-account.json")
	require.NoError(t, os.WriteFile(saFile, sa, 0o600))

	pf.Config = push.Config{
		APNs: &push.APNsConfig{KeyFile: p8, KeyID: KeyID, TeamID: TeamID, BundleID: BundleID, Host: apns.URL},
		FCM:  &push.FCMConfig{ProjectID: Project, CredentialsFile: saFile, Endpoint: fcm.URL + "/"},
	}
	return pf
}

// CheckAPNsAuth verifies an APNs provider token: ES256, KeyID and TeamID.
func (pf *Fakes) CheckAPNsAuth(t *testing.T, h http.Header) {
	t.Helper()
	auth := h.Get("Authorization")
	require.True(t, strings.HasPrefix(auth, "bearer "), "APNs wants a bearer provider token, got %q", auth)
	tok, err := jwt.Parse(strings.TrimPrefix(auth, "bearer "), func(tk *jwt.Token) (any, error) {
		require.Equal(t, "ES256", tk.Method.Alg())
		require.Equal(t, KeyID, tk.Header["kid"])
		return &pf.apnsKey.PublicKey, nil
	})
	require.NoError(t, err)
	claims := tok.Claims.(jwt.MapClaims)
	require.Equal(t, TeamID, claims["iss"])
}

// Dig walks nested JSON objects.
func Dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// Transports are the real APNs and FCM transports (packages push/apns and
// push/fcm) pointed at the fakes, for server.WithPush.
func (pf *Fakes) Transports(t testing.TB) []push.Transport {
	t.Helper()
	a, err := apns.New(*pf.Config.APNs, pf.Client)
	require.NoError(t, err)
	f, err := fcm.New(context.Background(), *pf.Config.FCM, pf.Client)
	require.NoError(t, err)
	return []push.Transport{a, f}
}
