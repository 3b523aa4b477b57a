package server

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
	fcm "google.golang.org/api/fcm/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/onecxi/phone/wire"
)

// fcmScope is the OAuth scope of FCM HTTP v1.
const fcmScope = "https://www.googleapis.com/auth/firebase.messaging"

// fcmTransport sends data-only, high-priority FCM HTTP v1 messages with
// Google's generated client (google.golang.org/api/fcm/v1), authenticated
// by a service account through golang.org/x/oauth2.
type fcmTransport struct {
	svc    *fcm.Service
	parent string // projects/<id>
}

// newFCM reads the service-account file. hc, if not nil, is the base HTTP
// client (tests, a proxy); the OAuth token is added on top of it.
func newFCM(ctx context.Context, c FCMConfig, hc *http.Client) (*fcmTransport, error) {
	js, err := os.ReadFile(c.CredentialsFile)
	if err != nil {
		return nil, fmt.Errorf("push.fcm.credentialsFile: %w", err)
	}
	creds, err := google.CredentialsFromJSONWithType(ctx, js, google.ServiceAccount, fcmScope)
	if err != nil {
		return nil, fmt.Errorf("push.fcm.credentialsFile %s: %w", c.CredentialsFile, err)
	}
	base := http.DefaultTransport
	if hc != nil && hc.Transport != nil {
		base = hc.Transport
	}
	client := &http.Client{Transport: &oauth2.Transport{Source: creds.TokenSource, Base: base}, Timeout: pushTimeout}
	opts := []option.ClientOption{option.WithHTTPClient(client)}
	if c.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(c.Endpoint))
	}
	svc, err := fcm.NewService(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("push.fcm: %w", err)
	}
	return &fcmTransport{svc: svc, parent: "projects/" + c.ProjectID}, nil
}

func (f *fcmTransport) kind() string { return TokenFCM }

// fcmData is the guide's payload as FCM data: every value a string (FCM
// data values are strings; the guide's timestamp arrives as its digits).
func fcmData(p wire.PushPayload) map[string]string {
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

func (f *fcmTransport) send(ctx context.Context, tok string, p wire.PushPayload) (pushResult, time.Duration, error) {
	data := fcmData(p)
	size := 0
	for k, v := range data {
		size += len(k) + len(v)
	}
	if size > fcmMaxPayload {
		return pushRejected, 0, fmt.Errorf("data of %d bytes is over FCM's %d", size, fcmMaxPayload)
	}
	msg := &fcm.Message{
		Token: tok,
		Data:  data, // data-only: no notification key, so the app's handler runs
		Android: &fcm.AndroidConfig{
			Priority: "HIGH",
			Ttl:      "0s", // now or never, like APNs expiration 0
		},
	}
	_, err := f.svc.Projects.Messages.Send(f.parent, &fcm.SendMessageRequest{Message: msg}).Context(ctx).Do()
	if err == nil {
		return pushSent, 0, nil
	}
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		return pushRetry, 0, fmt.Errorf("fcm: %w", err) // transport failure
	}
	return classifyFCM(ge)
}

// classifyFCM follows FCM's ErrorCode table: UNREGISTERED means the token
// is gone; QUOTA_EXCEEDED (429), UNAVAILABLE (503) and INTERNAL (500) are
// retried, honouring Retry-After.
func classifyFCM(ge *googleapi.Error) (pushResult, time.Duration, error) {
	code := fcmErrorCode(ge)
	err := fmt.Errorf("fcm %d %s", ge.Code, code)
	switch {
	case code == "UNREGISTERED":
		return pushDead, 0, err
	case ge.Code == http.StatusTooManyRequests, ge.Code >= 500:
		var after time.Duration
		if s, perr := strconv.Atoi(ge.Header.Get("Retry-After")); perr == nil && s > 0 {
			after = min(time.Duration(s)*time.Second, time.Minute)
		}
		return pushRetry, after, err
	}
	return pushRejected, 0, err
}

// fcmErrorCode digs FcmError.errorCode out of the error details (falling
// back to the status).
func fcmErrorCode(ge *googleapi.Error) string {
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
