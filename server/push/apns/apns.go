// Package apns is the APNs transport of package push: VoIP pushes through
// sideshow/apns2 with token (.p8) authentication.
package apns

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/token"

	"github.com/onecxi/phone/server/devices"
	"github.com/onecxi/phone/server/push"
	"github.com/onecxi/phone/wire"
)

// maxPayload is Apple's limit on a VoIP push's payload, in bytes.
const maxPayload = 5120

// Transport sends VoIP pushes with sideshow/apns2 and token (.p8)
// authentication. One client is kept for the server's life: Apple asks
// providers to keep their HTTP/2 connections open.
type Transport struct {
	client *apns2.Client
	topic  string
}

// New loads the .p8 key. hc, if not nil, replaces the HTTP client (tests
// trusting a fake APNs, or a proxy).
func New(c push.APNsConfig, hc *http.Client) (*Transport, error) {
	key, err := token.AuthKeyFromFile(c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("push.apns.keyFile %s: %w", wire.QuotePath(c.KeyFile), wire.QuoteError(err))
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
	return &Transport{client: client, topic: c.BundleID + ".voip"}, nil
}

// Kind implements push.Transport.
func (a *Transport) Kind() string { return devices.TokenVoIP }

// Send implements push.Transport.
func (a *Transport) Send(ctx context.Context, tok string, p wire.PushPayload) (push.Result, time.Duration, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return push.Rejected, 0, err
	}
	if len(body) > maxPayload {
		return push.Rejected, 0, fmt.Errorf("payload of %d bytes is over APNs' %d", len(body), maxPayload)
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
		return push.Retry, 0, fmt.Errorf("apns: %w", err)
	}
	res, err := classify(resp.StatusCode, resp.Reason)
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

// classify follows Apple's table of status codes and reasons. A token
// for another topic (DeviceTokenNotForTopic) is not pruned: that is what a
// misconfigured bundleId looks like, and pruning would unregister everyone.
func classify(status int, reason string) (push.Result, error) {
	switch {
	case status == http.StatusOK:
		return push.Sent, nil
	case status == http.StatusGone, reason == apns2.ReasonUnregistered, reason == apns2.ReasonBadDeviceToken:
		return push.Dead, fmt.Errorf("apns %d %s", status, reason)
	case status == http.StatusTooManyRequests, status >= 500:
		return push.Retry, fmt.Errorf("apns %d %s", status, reason)
	}
	return push.Rejected, fmt.Errorf("apns %d %s", status, reason)
}

var _ push.Transport = (*Transport)(nil)
