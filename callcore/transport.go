package callcore

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/onecxi/phone/wire"
)

// credentials are what Initialize accepted. The API key lives only here, in
// memory: it is never stored or logged.
type credentials struct {
	account, apiKey string
	server          string   // the server name as given
	httpBase        *url.URL // https://host[:port][/prefix]
	wsBase          *url.URL // wss://host[:port][/prefix]
}

// handshakeTimeout bounds a WebSocket upgrade when ctx has no sooner
// deadline.
const handshakeTimeout = 10 * time.Second

// parseServerName accepts https://, http://, wss:// and ws:// server names
// (https and wss are the same server, TLS; http and ws without) and returns
// the HTTP and WebSocket bases. A path is kept as a prefix (a server behind a
// reverse proxy at /onecxi); a query or fragment is an error.
func parseServerName(s string) (httpBase, wsBase *url.URL, err error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, nil, fmt.Errorf("server name %s is not a URL", wire.Quote(s))
	}
	var hs, ws string
	switch strings.ToLower(u.Scheme) {
	case "https", "wss":
		hs, ws = "https", "wss"
	case "http", "ws":
		hs, ws = "http", "ws"
	default:
		return nil, nil, fmt.Errorf("server name %s must start with https://, http://, wss:// or ws://", wire.Quote(s))
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, nil, fmt.Errorf("server name %s has no host", wire.Quote(s))
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, nil, fmt.Errorf("server name %s must be scheme://host[:port][/path] only", wire.Quote(s))
	}
	base := url.URL{Host: u.Host, Path: strings.TrimRight(u.Path, "/")}
	h, w := base, base
	h.Scheme, w.Scheme = hs, ws
	return &h, &w, nil
}

// httpClient returns the configured client or one honouring WithTLSConfig.
func (s *SDK) httpClient() *http.Client {
	if s.cfg.httpClient != nil {
		return s.cfg.httpClient
	}
	return s.defaultHTTP
}

func newDefaultHTTPClient(tlsConf *tls.Config) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if tlsConf != nil {
		t.TLSClientConfig = tlsConf.Clone()
	}
	return &http.Client{Transport: t, Timeout: 20 * time.Second}
}

// wsTLSConfig is WithTLSConfig's, else the HTTP client's transport's, so an
// app configuring one of them gets the same trust for both.
func (s *SDK) wsTLSConfig() *tls.Config {
	if s.cfg.tlsConfig != nil {
		return s.cfg.tlsConfig.Clone()
	}
	if t, ok := s.httpClient().Transport.(*http.Transport); ok && t.TLSClientConfig != nil {
		return t.TLSClientConfig.Clone()
	}
	return nil
}

func (s *SDK) wsProxy() func(*http.Request) (*url.URL, error) {
	if t, ok := s.httpClient().Transport.(*http.Transport); ok && t.Proxy != nil {
		return t.Proxy
	}
	return http.ProxyFromEnvironment
}

// cannotConnect is the error for a server that could not be reached at all.
// The cause is the network error: an *url.Error around it would repeat the
// whole request URL, which the server name (quoted short) already says.
func cannotConnect(cr credentials, err error) *Error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return newError(ErrWebSocketConnectionFailed, err, "cannot connect to the server at %s", wire.Quote(cr.server))
}

// checkCredentials is Initialize's POST /v1/auth/check.
func (s *SDK) checkCredentials(ctx context.Context, cr credentials) (wire.AuthCheckResponse, error) {
	var out wire.AuthCheckResponse
	u := cr.httpBase.JoinPath(wire.PathAuthCheck)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(nil))
	if err != nil {
		return out, newError(ErrInvalidInput, err, "bad server name")
	}
	wire.SetCredentials(req.Header, cr.account, cr.apiKey)
	resp, err := s.httpClient().Do(req)
	if err != nil {
		return out, cannotConnect(cr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		se := readServerError(resp)
		if resp.StatusCode == http.StatusUnauthorized {
			return out, newError(ErrInitializationFailed, se, "the account name or API key was rejected")
		}
		return out, newError(ErrInitializationFailed, se, "the server refused the credential check")
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, wire.MaxTextMessage)).Decode(&out); err != nil {
		return out, newError(ErrInitializationFailed, wire.QuoteError(err), "unexpected credential check reply (is %s a OneCxi server?)", wire.Quote(cr.server))
	}
	if out.Protocol != 0 && out.Protocol != wire.Version {
		return out, newError(ErrInitializationFailed, nil, "the server speaks protocol %d, this SDK %d", out.Protocol, wire.Version)
	}
	return out, nil
}

// readServerError decodes an HTTP error body, falling back to the status.
func readServerError(resp *http.Response) *ServerError {
	se := &ServerError{HTTPStatus: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
	var body wire.HTTPError
	b, _ := io.ReadAll(io.LimitReader(resp.Body, wire.MaxTextMessage))
	if json.Unmarshal(b, &body) == nil && body.Code != "" {
		se.Code, se.Message = body.Code, body.Message
		return se
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		se.Code = wire.CodeUnauthorized
	case http.StatusNotFound:
		se.Code = wire.CodeNotFound
	case http.StatusUpgradeRequired:
		se.Code = wire.CodeUnsupported
	case http.StatusTooManyRequests:
		se.Code = wire.CodeTooManyRequests
	case http.StatusServiceUnavailable:
		se.Code = wire.CodeShuttingDown
	default:
		se.Code = wire.CodeInternal
	}
	se.Message = http.StatusText(resp.StatusCode)
	return se
}

// parseRetryAfter reads a Retry-After header's delay-seconds (RFC 9110
// 10.2.3; an HTTP date is also allowed there, and taken as well). Anything
// else, or nothing, is 0; the delay is at most maxRetryAfter.
func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		return min(time.Duration(n)*time.Second, maxRetryAfter)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(time.Until(t), 0), maxRetryAfter)
	}
	return 0
}

// dial opens a WebSocket on path with the credentials and the protocol's
// subprotocol. Errors are *Error: 401 is ErrInitializationFailed (the
// credentials were revoked since Initialize), anything else that keeps the
// socket from opening is ErrWebSocketConnectionFailed.
func (s *SDK) dial(ctx context.Context, cr credentials, path string, query url.Values) (*websocket.Conn, error) {
	u := cr.wsBase.JoinPath(path)
	if query != nil {
		u.RawQuery = query.Encode()
	}
	d := websocket.Dialer{
		Proxy:            s.wsProxy(),
		TLSClientConfig:  s.wsTLSConfig(),
		HandshakeTimeout: handshakeTimeout,
		Subprotocols:     []string{wire.Subprotocol},
		NetDialContext:   wire.DialContext, // the fast path for microphone frames (wire.Conn)
	}
	h := http.Header{}
	wire.SetCredentials(h, cr.account, cr.apiKey)
	if path == wire.PathCall {
		h.Set(wire.HeaderFeatures, wire.FeatureResume) // this SDK resumes lost calls
	}
	ws, resp, err := d.DialContext(ctx, u.String(), h)
	if err != nil {
		if resp != nil && errors.Is(err, websocket.ErrBadHandshake) {
			defer resp.Body.Close()
			se := readServerError(resp)
			if resp.StatusCode == http.StatusUnauthorized {
				return nil, newError(ErrInitializationFailed, se, "the server rejected the credentials")
			}
			return nil, newError(ErrWebSocketConnectionFailed, se, "the server refused the connection")
		}
		return nil, cannotConnect(cr, err)
	}
	if ws.Subprotocol() != wire.Subprotocol {
		_ = ws.Close()
		return nil, newError(ErrWebSocketConnectionFailed, nil, "the server did not agree to protocol %s", wire.Subprotocol)
	}
	return ws, nil
}

// postDecline is POST /v1/calls/{callId}/decline.
func (s *SDK) postDecline(ctx context.Context, cr credentials, callID string) error {
	// Concatenated, not JoinPath: DeclinePath has escaped the call ID and
	// JoinPath would unescape it.
	u := cr.httpBase.String() + wire.DeclinePath(callID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return newError(ErrIncomingCallFailed, err, "declining call %s", wire.Quote(callID))
	}
	wire.SetCredentials(req.Header, cr.account, cr.apiKey)
	resp, err := s.httpClient().Do(req)
	if err != nil {
		return newError(ErrIncomingCallFailed, cannotConnect(cr, err), "declining call %s", wire.Quote(callID))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, wire.MaxTextMessage))
		return nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusConflict:
		// The call has already ended or was answered elsewhere: there is
		// nothing left to decline, which is what the user wanted.
		se := readServerError(resp)
		s.log.Debug("callcore: decline of a call that is gone", "call_id", callID, "code", se.Code)
		return nil
	}
	return newError(ErrIncomingCallFailed, readServerError(resp), "declining call %s", wire.Quote(callID))
}
