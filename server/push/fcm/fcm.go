// Package fcm is the FCM transport of package push: data-only,
// high-priority FCM HTTP v1 messages, authenticated by a service account.
package fcm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	fcmapi "google.golang.org/api/fcm/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/server/push"
	"github.com/onecxi/phone/wire"
)

const (
	// scope is the OAuth scope of FCM HTTP v1.
	scope = "https://www.googleapis.com/auth/firebase.messaging"
	// maxPayload is FCM's limit on a data message's data, in bytes.
	maxPayload = 4096
)

// Transport sends data-only, high-priority FCM HTTP v1 messages with
// Google's generated client (google.golang.org/api/fcm/v1), authenticated
// by a service account through golang.org/x/oauth2.
type Transport struct {
	svc    *fcmapi.Service
	parent string // projects/<id>
}

// New reads the service-account file. hc, if not nil, is the base HTTP
// client (tests, a proxy); the OAuth token is added on top of it.
func New(ctx context.Context, c push.FCMConfig, hc *http.Client) (*Transport, error) {
	js, err := os.ReadFile(c.CredentialsFile)
	if err != nil {
		return nil, fmt.Errorf("push.fcm.credentialsFile: %w", wire.QuoteError(err))
	}
	creds, err := google.CredentialsFromJSONWithType(ctx, js, google.ServiceAccount, scope)
	if err != nil {
		return nil, fmt.Errorf("push.fcm.credentialsFile %s: %w", wire.QuotePath(c.CredentialsFile), wire.QuoteError(err))
	}
	base := http.DefaultTransport
	if hc != nil && hc.Transport != nil {
		base = hc.Transport
	}
	client := &http.Client{Transport: &oauth2.Transport{Source: creds.TokenSource, Base: base}, Timeout: push.Timeout}
	opts := []option.ClientOption{option.WithHTTPClient(client)}
	if c.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(c.Endpoint))
	}
	svc, err := fcmapi.NewService(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("push.fcm: %w", err)
	}
	return &Transport{svc: svc, parent: "projects/" + c.ProjectID}, nil
}

// Kind implements push.Transport.
func (f *Transport) Kind() string { return devices.TokenFCM }

// data is the guide's payload as FCM data: every value a string (FCM
// data values are strings; the guide's timestamp arrives as its digits).
func data(p wire.PushPayload) map[string]string {
	d := map[string]string{
		"callFrom":         p.CallFrom,
		"callTo":           p.CallTo,
		"callType":         p.CallType,
		"registeredNumber": p.RegisteredNumber,
	}
	for k, v := range map[string]string{"callerName": p.CallerName, "callId": p.CallID, "environment": p.Environment,
		"platform": p.Platform, "event": p.Event} {
		if v != "" {
			d[k] = v
		}
	}
	if p.Timestamp != 0 {
		d["timestamp"] = strconv.FormatInt(p.Timestamp, 10)
	}
	return d
}

// Send implements push.Transport.
func (f *Transport) Send(ctx context.Context, tok string, p wire.PushPayload) (push.Result, time.Duration, error) {
	data := data(p)
	size := 0
	for k, v := range data {
		size += len(k) + len(v)
	}
	if size > maxPayload {
		return push.Rejected, 0, fmt.Errorf("data of %d bytes is over FCM's %d", size, maxPayload)
	}
	msg := &fcmapi.Message{
		Token: tok,
		Data:  data, // data-only: no notification key, so the app's handler runs
		Android: &fcmapi.AndroidConfig{
			Priority: "HIGH",
			Ttl:      "0s", // now or never, like APNs expiration 0
		},
	}
	_, err := f.svc.Projects.Messages.Send(f.parent, &fcmapi.SendMessageRequest{Message: msg}).Context(ctx).Do()
	if err == nil {
		return push.Sent, 0, nil
	}
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		return push.Retry, 0, fmt.Errorf("fcm: %w", err) // transport failure
	}
	return classify(ge)
}

// classify follows FCM's ErrorCode table: UNREGISTERED means the token
// is gone; QUOTA_EXCEEDED (429), UNAVAILABLE (503) and INTERNAL (500) are
// retried, honouring Retry-After.
func classify(ge *googleapi.Error) (push.Result, time.Duration, error) {
	code := errorCode(ge)
	err := fmt.Errorf("fcm %d %s", ge.Code, code)
	switch {
	case code == "UNREGISTERED":
		return push.Dead, 0, err
	case ge.Code == http.StatusTooManyRequests, ge.Code >= 500:
		var after time.Duration
		if s, perr := strconv.Atoi(ge.Header.Get("Retry-After")); perr == nil && s > 0 {
			after = min(time.Duration(s)*time.Second, time.Minute)
		}
		return push.Retry, after, err
	}
	return push.Rejected, 0, err
}

// errorCode digs FcmError.errorCode out of the error details (falling
// back to the status).
func errorCode(ge *googleapi.Error) string {
	for _, d := range ge.Details {
		b, err := json.Marshal(d)
		if err != nil {
			continue
		}
		var fe struct {
			Type      string `json:"@type"`
			ErrorCode string `json:"errorCode"`
		}
		if json.Unmarshal(b, &fe) == nil && fe.ErrorCode != "" {
			return fe.ErrorCode
		}
	}
	var body struct {
		Error struct {
			Status string `json:"status"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(ge.Body), &body) == nil {
		return body.Error.Status
	}
	return ""
}

var _ push.Transport = (*Transport)(nil)
