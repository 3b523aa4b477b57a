package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/token"

	"github.com/onecxi/phone/wire"
)

// apnsTransport sends VoIP pushes with sideshow/apns2 and token (.p8)
// authentication. One client is kept for the server's life: Apple asks
// providers to keep their HTTP/2 connections open.
type apnsTransport struct {
	client *apns2.Client
	topic  string
}

// newAPNs loads the .p8 key. hc, if not nil, replaces the HTTP client (tests
// trusting a fake APNs, or a proxy).
func newAPNs(c APNsConfig, hc *http.Client) (*apnsTransport, error) {
	key, err := token.AuthKeyFromFile(c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("push.apns.keyFile %s: %w", c.KeyFile, err)
	}
	client := apns2.NewTokenClient(&token.Token{AuthKey: key, KeyID: c.KeyID, TeamID: c.TeamID})
	if c.Production {
		client.Production()
	} else {
		client.Development()
	}
	if c.Host != "" {
		client.Host = c.Host
	}
	if hc != nil {
		client.HTTPClient = &http.Client{Transport: hc.Transport, Timeout: hc.Timeout}
	}
	base := client.HTTPClient.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	client.HTTPClient.Transport = expireNow{base}
	return &apnsTransport{client: client, topic: c.BundleID + ".voip"}, nil
}

func (a *apnsTransport) kind() string { return TokenVoIP }

func (a *apnsTransport) send(ctx context.Context, tok string, p wire.PushPayload) (pushResult, time.Duration, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return pushRejected, 0, err
	}
	if len(body) > apnsMaxPayload {
		return pushRejected, 0, fmt.Errorf("payload of %d bytes is over APNs' %d", len(body), apnsMaxPayload)
	}
	n := &apns2.Notification{
		DeviceToken: tok,
		Topic:       a.topic,
		PushType:    apns2.PushTypeVOIP,
		Priority:    apns2.PriorityHigh,
		Payload:     body, // apns-expiration: 0 is added by expireNow
	}
	resp, err := a.client.PushWithContext(ctx, n)
	if err != nil {
		return pushRetry, 0, fmt.Errorf("apns: %w", err)
	}
	res, err := classifyAPNs(resp.StatusCode, resp.Reason)
	return res, 0, err
}

// expireNow sends apns-expiration: 0, "deliver now or never": a call that
// could not ring now must not ring an hour later. apns2 only sends the header
// for expirations after the epoch, so 0 cannot be said through it.
type expireNow struct{ base http.RoundTripper }

func (e expireNow) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("apns-expiration") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("apns-expiration", "0")
	}
	return e.base.RoundTrip(r)
}

// classifyAPNs follows Apple's table of status codes and reasons. A token
// for another topic (DeviceTokenNotForTopic) is not pruned: that is what a
// misconfigured bundleId looks like, and pruning would unregister everyone.
func classifyAPNs(status int, reason string) (pushResult, error) {
	switch {
	case status == http.StatusOK:
		return pushSent, nil
	case status == http.StatusGone, reason == apns2.ReasonUnregistered, reason == apns2.ReasonBadDeviceToken:
		return pushDead, fmt.Errorf("apns %d %s", status, reason)
	case status == http.StatusTooManyRequests, status >= 500:
		return pushRetry, fmt.Errorf("apns %d %s", status, reason)
	}
	return pushRejected, fmt.Errorf("apns %d %s", status, reason)
}
