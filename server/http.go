package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/wire"
)

// routes maps PROTOCOL.md's endpoints. Patterns carry no method, so that a
// wrong method gets a JSON 405 from allow rather than the mux's plain text.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(wire.PathHealth, allow(http.MethodGet, s.handleHealth))
	mux.HandleFunc(wire.PathReady, allow(http.MethodGet, s.handleReady))
	mux.HandleFunc(wire.PathAuthCheck, allow(http.MethodPost, s.authed(s.handleAuthCheck)))
	mux.HandleFunc(wire.PathCall, allow(http.MethodGet, s.handleCall))
	mux.HandleFunc(wire.PathEvents, allow(http.MethodGet, s.handleEvents))
	mux.HandleFunc(wire.PathCallsPrefix+"{id}"+wire.DeclineSuffix, allow(http.MethodPost, s.authed(s.handleDecline)))
	mux.HandleFunc(wire.PathDevices, allow(http.MethodPost, s.authed(s.handleRegisterDevice)))
	mux.HandleFunc(wire.PathDevices+"/{id}", allow(http.MethodDelete, s.authed(s.handleUnregisterDevice)))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, wire.CodeNotFound, "no such endpoint")
	})
	return mux
}

func allow(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			writeError(w, http.StatusMethodNotAllowed, wire.CodeBadRequest, "use "+method)
			return
		}
		h(w, r)
	}
}

// writeError writes PROTOCOL.md's error body.
func writeError(w http.ResponseWriter, status int, code wire.Code, msg string) {
	writeJSON(w, status, wire.HTTPError{Code: code, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// account runs the checks every authenticated endpoint makes first: the
// server is not shutting down (503) and the credentials are good (401). nil
// means the response has been written.
func (s *Server) account(w http.ResponseWriter, r *http.Request) *account {
	if s.refuseIfShutting(w) {
		return nil
	}
	return s.authenticate(w, r)
}

// authed adapts a handler that needs an account (see account).
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, *account)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if acct := s.account(w, r); acct != nil {
			h(w, r, acct)
		}
	}
}

func (s *Server) refuseIfShutting(w http.ResponseWriter) bool {
	if s.shutting.Load() {
		writeError(w, http.StatusServiceUnavailable, wire.CodeShuttingDown, "the server is shutting down")
		return true
	}
	return false
}

func (s *Server) handleAuthCheck(w http.ResponseWriter, r *http.Request, acct *account) {
	writeJSON(w, http.StatusOK, wire.AuthCheckResponse{Account: acct.name, Protocol: wire.Version, Server: Name})
}

func (s *Server) handleDecline(w http.ResponseWriter, r *http.Request, acct *account) {
	id := r.PathValue("id")
	status, code, msg := http.StatusServiceUnavailable, wire.CodeShuttingDown, "the server is shutting down"
	_ = s.reg.do(func() { status, code, msg = s.reg.decline(acct, id) })
	if code == wire.CodeNotFound && s.bridge != nil {
		// The call may live on another node of the cluster.
		if st, c, m, ok := s.declineElsewhere(r.Context(), acct, id); ok {
			status, code, msg = st, c, m
		}
	}
	if code != "" {
		writeError(w, status, code, msg)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleCall(w http.ResponseWriter, r *http.Request) {
	acct := s.preUpgrade(w, r)
	if acct == nil {
		return
	}
	defer s.goes.done()
	// Which kind of call this will be is not known before start (an answer
	// adds no call), so this only guards memory: a call has at most two
	// legs. The call limit proper is applied to start.
	if int(s.stats.callLegs.Load()) >= 2*s.cfg.MaxCalls {
		refuseTooMany(w, capRetryAfter, "the server is at its call limit")
		return
	}
	// The account's own share, counted exactly (limits.go).
	release := s.reserveSlot(w, acct, slotCall)
	if release == nil {
		return
	}
	defer release()
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	s.stats.callSockets.Add(1)
	defer s.stats.callSockets.Add(-1)
	s.serveCall(acct, ws, s.proxies.clientOf(r), wire.HasFeature(r.Header, wire.FeatureResume))
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	acct := s.preUpgrade(w, r)
	if acct == nil {
		return
	}
	defer s.goes.done()
	number := r.URL.Query().Get(wire.QueryRegisteredNumber)
	if !wire.ValidNumber(number) {
		writeError(w, http.StatusBadRequest, wire.CodeInvalidInput,
			"?"+wire.QueryRegisteredNumber+"= must be a number (digits, optional leading +)")
		return
	}
	device := r.URL.Query().Get(wire.QueryDeviceID)
	if device != "" {
		if err := wire.CheckDeviceID(device); err != nil {
			writeError(w, http.StatusBadRequest, wire.CodeInvalidInput, "?"+wire.QueryDeviceID+"=: "+err.Error())
			return
		}
	}
	release := s.reserveSlot(w, acct, slotEvents)
	if release == nil {
		return
	}
	defer release()
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.serveEvents(acct, number, device, ws, s.proxies.clientOf(r))
}

// preUpgrade runs the checks every WebSocket endpoint makes before any
// WebSocket exists: shutting down (503), credentials (401), a WebSocket
// request at all (400) and the protocol version (426). On success the caller
// holds a tracker slot and must release it with s.goes.done().
func (s *Server) preUpgrade(w http.ResponseWriter, r *http.Request) *account {
	acct := s.account(w, r)
	if acct == nil {
		return nil
	}
	if !websocket.IsWebSocketUpgrade(r) {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, "this endpoint is a WebSocket: send an upgrade request")
		return nil
	}
	if !slices.Contains(websocket.Subprotocols(r), wire.Subprotocol) {
		w.Header().Set("Sec-WebSocket-Protocol", wire.Subprotocol)
		writeError(w, http.StatusUpgradeRequired, wire.CodeUnsupported,
			"offer WebSocket subprotocol "+wire.Subprotocol+" (protocol version 1)")
		return nil
	}
	if !s.goes.add() {
		writeError(w, http.StatusServiceUnavailable, wire.CodeShuttingDown, "the server is shutting down")
		return nil
	}
	return acct
}

// checkOrigin accepts requests without an Origin header: the SDK is a native
// client (no browser, so no Origin and no ambient cookies to abuse), and
// credentials travel in explicit headers a cross-site page cannot make a
// browser add to a WebSocket upgrade. A browser that does send Origin must be
// on the server's own host, gorilla's default, so a web page elsewhere cannot
// drive calls from a visitor's browser.
func checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// upgradeError gives the upgrader's own refusals the JSON error body.
func upgradeError(w http.ResponseWriter, r *http.Request, status int, reason error) {
	code := wire.CodeBadRequest
	switch status {
	case http.StatusForbidden:
		code = wire.CodeUnauthorized
	case http.StatusInternalServerError:
		code = wire.CodeInternal
	}
	writeError(w, status, code, reason.Error())
}

// handleRegisterDevice is POST /v1/devices: register or re-register one of
// the account's devices (PROTOCOL.md, "Device registry").
func (s *Server) handleRegisterDevice(w http.ResponseWriter, r *http.Request, acct *account) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, wire.MaxRegistrationB))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, wire.CodeBadRequest, "registration too large")
		return
	}
	reg, err := wire.ParseDeviceRegistration(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, text(err.Error()))
		return
	}
	d := devices.Device{Account: acct.name, DeviceID: reg.DeviceID, Number: reg.RegisteredNumber, Platform: reg.Platform,
		VoIPToken: reg.VoIPToken, FCMToken: reg.FCMToken, Updated: time.Now()}
	if err := s.devices.Put(r.Context(), d); err != nil {
		s.log.Error("device registry", "account", acct.name, "err", err)
		writeError(w, http.StatusInternalServerError, wire.CodeInternal, "the device registry is unavailable")
		return
	}
	s.log.Info("device registered", "account", acct.name, "device", d.DeviceID, "number", d.Number,
		"platform", d.Platform, "voipToken", wire.Redact(d.VoIPToken), "fcmToken", wire.Redact(d.FCMToken))
	w.WriteHeader(http.StatusNoContent)
}

// handleUnregisterDevice is DELETE /v1/devices/{id}: sign-out.
func (s *Server) handleUnregisterDevice(w http.ResponseWriter, r *http.Request, acct *account) {
	id := r.PathValue("id")
	if err := wire.CheckDeviceID(id); err != nil {
		writeError(w, http.StatusBadRequest, wire.CodeBadRequest, text(err.Error()))
		return
	}
	switch err := s.devices.Delete(r.Context(), acct.name, id); {
	case errors.Is(err, devices.ErrNoDevice):
		writeError(w, http.StatusNotFound, wire.CodeNotFound, "no such device")
	case err != nil:
		s.log.Error("device registry", "account", acct.name, "err", err)
		writeError(w, http.StatusInternalServerError, wire.CodeInternal, "the device registry is unavailable")
	default:
		s.log.Info("device unregistered", "account", acct.name, "device", id)
		w.WriteHeader(http.StatusNoContent)
	}
}
