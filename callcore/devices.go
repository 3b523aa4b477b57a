package callcore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/onecxi/phone/platform"
	"github.com/onecxi/phone/wire"
)

// storeKeyDeviceID keeps this install's device ID across restarts.
const storeKeyDeviceID = "deviceId"

// RegisterDevice tells the server that this install answers registeredNumber,
// so calls to it ring here too when the app is not running: with the VoIP
// token on iOS, the FCM token on Android, and on desktop (no push) only
// while ListenForIncomingCalls holds an events connection. Call it after
// Initialize; re-registering replaces what the server had. On a platform
// that reports new tokens (platform.PushSource: Android's FCM) the SDK
// registers again by itself, with the number last passed here, whenever
// the token changes, also after a registration that failed because the
// token was not there yet. It is an extension: the
// guide leaves registration to the app's own backend, which our reference
// server is (PROTOCOL.md, "Device registry").
func (s *SDK) RegisterDevice(ctx context.Context, registeredNumber string) error {
	cr, err := s.initialized()
	if err != nil {
		return err
	}
	number := strings.TrimSpace(registeredNumber)
	if number == "" || !wire.ValidNumber(number) {
		return newError(ErrInvalidInput, nil, "registeredNumber %s is not a number (digits with an optional leading +, at most %d)",
			wire.Quote(registeredNumber), wire.MaxNumberLen)
	}
	s.mu.Lock()
	s.pushNumber = number
	s.mu.Unlock()
	id, err := s.deviceID()
	if err != nil {
		return err
	}
	reg := wire.DeviceRegistration{DeviceID: id, RegisteredNumber: number, Platform: wire.PlatformDesktop}
	switch s.plat.Name() {
	case "ios":
		reg.Platform = wire.PlatformIOS
		if reg.VoIPToken, err = s.token(ctx, platform.TokenVoIP); err != nil {
			return err
		}
	case "android":
		reg.Platform = wire.PlatformAndroid
		if reg.FCMToken, err = s.token(ctx, platform.TokenFCM); err != nil {
			return err
		}
	}
	if reg.Platform != wire.PlatformDesktop && reg.VoIPToken == "" && reg.FCMToken == "" {
		return newError(ErrIncomingCallFailed, nil, "the %s push token is not available yet: register again once the platform has issued it", reg.Platform)
	}
	if err := reg.Validate(); err != nil {
		return newError(ErrIncomingCallFailed, err, "the platform's push token cannot be registered")
	}
	body, err := json.Marshal(reg)
	if err != nil {
		return newError(ErrUnknown, err, "encoding the registration")
	}
	if err := s.deviceRequest(ctx, cr, http.MethodPost, wire.PathDevices, body); err != nil {
		return err
	}
	s.log.Info("callcore: device registered", "platform", reg.Platform, "number", number,
		"token", wire.Redact(reg.VoIPToken+reg.FCMToken))
	return nil
}

// UnregisterDevice tells the server to stop ringing this install (sign-out).
// A device the server does not know is already unregistered: not an error.
func (s *SDK) UnregisterDevice(ctx context.Context) error {
	cr, err := s.initialized()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.pushNumber = "" // a new token no longer registers it again
	s.mu.Unlock()
	id, err := s.deviceID()
	if err != nil {
		return err
	}
	return s.deviceRequest(ctx, cr, http.MethodDelete, wire.PathDevices+"/"+url.PathEscape(id), nil)
}

// deviceID returns this install's ID, made and stored on first use.
func (s *SDK) deviceID() (string, error) {
	s.deviceIDMu.Lock()
	defer s.deviceIDMu.Unlock()
	if id, ok, err := s.store.Load(storeKeyDeviceID); err != nil {
		return "", newError(ErrUnknown, err, "reading the device ID")
	} else if ok && wire.CheckDeviceID(id) == nil {
		return id, nil
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := "d-" + hex.EncodeToString(b[:])
	if err := s.store.Save(storeKeyDeviceID, id); err != nil {
		return "", newError(ErrUnknown, err, "saving the device ID")
	}
	return id, nil
}

func (s *SDK) deviceRequest(ctx context.Context, cr credentials, method, path string, body []byte) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, cr.httpBase.String()+path, rd)
	if err != nil {
		return newError(ErrIncomingCallFailed, err, "device registration")
	}
	req.Header.Set("Content-Type", "application/json")
	wire.SetCredentials(req.Header, cr.account, cr.apiKey)
	resp, err := s.httpClient().Do(req)
	if err != nil {
		return newError(ErrIncomingCallFailed, cannotConnect(cr, err), "device registration")
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2, method == http.MethodDelete && resp.StatusCode == http.StatusNotFound:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, wire.MaxTextMessage))
		return nil
	case resp.StatusCode == http.StatusUnauthorized:
		return newError(ErrInitializationFailed, readServerError(resp), "the server rejected the credentials")
	}
	return newError(ErrIncomingCallFailed, readServerError(resp), "device registration")
}
