package sipgw

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"github.com/onecxi/phone/wire"
)

// registerRetry is how long to wait after a failed registration.
const registerRetry = 30 * time.Second

// keepRegistered registers with t until ctx ends, refreshing before the
// registration expires, then unregisters.
func (g *Gateway) keepRegistered(ctx context.Context, t Trunk) {
	log := g.log.With("trunk", t.Name)
	r := registration{g: g, t: t, callID: uuid.NewString(), cseq: 1}
	for {
		granted, err := r.register(ctx, t.RegisterExpiry)
		wait := registerRetry
		if err != nil {
			log.Warn("SIP registration failed; retrying", "err", err, "retry", wait)
		} else {
			// Refresh well before the registrar forgets us.
			wait = max(granted*3/4, time.Second)
			log.Info("SIP registration", "expires", granted)
		}
		select {
		case <-ctx.Done():
			uctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
			if _, err := r.register(uctx, 0); err != nil {
				log.Warn("SIP unregistration failed", "err", err)
			} else {
				log.Info("SIP unregistered")
			}
			cancel()
			return
		case <-time.After(wait):
		}
	}
}

// registration is one trunk's REGISTER dialog: one Call-ID, rising CSeq.
type registration struct {
	g      *Gateway
	t      Trunk
	callID string
	cseq   uint32
}

// register sends REGISTER with the given expiry (0 unregisters), answering
// a digest challenge, and returns the expiry the registrar granted.
func (r *registration) register(ctx context.Context, expiry time.Duration) (time.Duration, error) {
	t := r.t
	uri := sip.Uri{Scheme: "sip", Host: t.Host, Port: t.Port}
	if t.Transport == TransportTCP {
		uri.UriParams = sip.NewParams()
		uri.UriParams.Add("transport", "tcp")
	}
	aor := sip.Uri{Scheme: "sip", User: t.Username, Host: t.Domain}
	req := sip.NewRequest(sip.REGISTER, uri)
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	callID := sip.CallIDHeader(r.callID)
	req.AppendHeader(&callID)
	r.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.cseq, MethodName: sip.REGISTER})
	contact := r.g.contact(t.Username, t.Transport)
	req.AppendHeader(&contact)
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expiry.Seconds()))))
	req.SetTransport(strings.ToUpper(t.Transport))

	cli := r.g.clients[t.Transport]
	res, err := cli.Do(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("REGISTER %s: %w", wire.Quote(t.Host), err)
	}
	if res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired {
		r.cseq++ // DoDigestAuth increments the request's CSeq itself
		res, err = cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{
			Username: cmp.Or(t.AuthUsername, t.Username), Password: string(t.Password),
		})
		if err != nil {
			return 0, fmt.Errorf("REGISTER %s with credentials: %w", wire.Quote(t.Host), err)
		}
	}
	if !res.IsSuccess() {
		return 0, fmt.Errorf("REGISTER %s: %d %s", wire.Quote(t.Host), res.StatusCode, wire.Quote(res.Reason))
	}
	granted := expiry
	if h := res.GetHeader("Expires"); h != nil {
		if s, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && s > 0 {
			granted = time.Duration(s) * time.Second
		}
	}
	if c := res.Contact(); c != nil {
		if v, ok := c.Params.Get("expires"); ok {
			if s, err := strconv.Atoi(v); err == nil && s > 0 {
				granted = time.Duration(s) * time.Second
			}
		}
	}
	return granted, nil
}
