package wire

import (
	"net/http"
	"net/url"
	"strings"
)

// Version is the protocol version. It is carried in the WebSocket subprotocol
// so an incompatible client is refused during the upgrade, before any call
// state exists.
const Version = 1

// Subprotocol is the Sec-WebSocket-Protocol value of protocol [Version].
const Subprotocol = "onecxi.v1"

// HTTP paths served by a OneCxi call server.
const (
	// PathHealth is liveness (200 while the process answers), PathReady
	// readiness (200 while the server takes new calls; 503 shutting_down
	// while it drains or shuts down).
	PathHealth    = "/healthz"
	PathReady     = "/readyz"
	PathAuthCheck = "/v1/auth/check"
	PathCall      = "/v1/call"
	PathEvents    = "/v1/events"
	// PathDecline is followed by the call ID: POST /v1/calls/{callId}/decline.
	PathCallsPrefix = "/v1/calls/"
	DeclineSuffix   = "/decline"
)

// Credential headers, sent on every HTTP request and WebSocket upgrade.
const (
	HeaderAccount = "X-OneCxi-Account"
	HeaderAuth    = "Authorization"
	bearerPrefix  = "Bearer "
)

// HeaderFeatures lists, on a /v1/call upgrade, the optional protocol
// features a client supports (comma-separated tokens; unknown ones are
// ignored). A server uses a feature on that connection only when the client
// named it, so neither side ever sends the other a message or field it
// does not know: an old server ignores the header, an old client never sends
// it.
const HeaderFeatures = "X-OneCxi-Features"

// FeatureResume is call resumption (PROTOCOL.md, "Call resumption"): the
// client takes resumable{…}, resumes a lost socket with resume{…}, handles
// resumed, reconnecting and reconnected, and pings at least once a second
// while its call is answered.
const FeatureResume = "resume"

// HasFeature reports whether h's HeaderFeatures names feature.
func HasFeature(h http.Header, feature string) bool {
	for _, v := range h.Values(HeaderFeatures) {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), feature) {
				return true
			}
		}
	}
	return false
}

// QueryRegisteredNumber names the events connection's registered number.
const QueryRegisteredNumber = "registeredNumber"

// QueryDeviceID optionally names the install holding an events connection
// (CheckDeviceID), so the device that answers a call is not told "end" for it.
const QueryDeviceID = "deviceId"

// SetCredentials puts account and API key on h.
func SetCredentials(h http.Header, account, apiKey string) {
	h.Set(HeaderAccount, account)
	h.Set(HeaderAuth, bearerPrefix+apiKey)
}

// Credentials reads what [SetCredentials] wrote. ok is false when either part
// is missing.
func Credentials(h http.Header) (account, apiKey string, ok bool) {
	account = strings.TrimSpace(h.Get(HeaderAccount))
	auth := h.Get(HeaderAuth)
	if !strings.HasPrefix(auth, bearerPrefix) {
		return account, "", false
	}
	apiKey = strings.TrimSpace(auth[len(bearerPrefix):])
	return account, apiKey, account != "" && apiKey != ""
}

// AuthCheckResponse is the JSON body of a successful [PathAuthCheck].
type AuthCheckResponse struct {
	Account  string `json:"account"`
	Protocol int    `json:"protocol"`
	Server   string `json:"server"`
}

// HTTPError is the JSON body of every non-2xx HTTP reply.
type HTTPError struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// Redact returns a form of a secret (API key, token, push token) safe to log:
// its length and last four characters at most.
func Redact(secret string) string {
	if len(secret) <= 8 {
		return "****"
	}
	return "****" + secret[len(secret)-4:]
}

// DeclinePath returns the path that declines callID.
func DeclinePath(callID string) string {
	return PathCallsPrefix + url.PathEscape(callID) + DeclineSuffix
}
