// Package sipgw is the server's SIP signalling gateway: it connects calls to
// the telephone network through one or more SIP trunks (a provider, or a
// PBX such as Asterisk or FreeSWITCH).
//
// A [Gateway] is a [trunk.Trunk]: an app's outbound call becomes an INVITE
// to the trunk chosen by the number's prefix, with digest authentication
// when challenged; provisional responses ring the app, 200 OK bridges audio,
// and a failure ends the app's call with a clear code (busy, not_found,
// no_answer, unreachable, trunk_failed). Inbound INVITEs from an allowed
// trunk address are placed on the DID plan with [server.Server.Inbound], so a
// customer's call can ring an agent's app.
//
// Signalling is github.com/emiago/sipgo over UDP and TCP; media (G.711 over
// RTP, RFC 4733 telephone-events, SDP offer/answer) is package media. Hold is
// a re-INVITE with a=sendonly (inactive when both sides hold) and resume one
// with a=sendrecv. Session timers (RFC 4028: Session-Expires, Min-SE, 422,
// refreshes by UPDATE or re-INVITE, BYE at expiry), reliable provisional
// responses (RFC 3262: 100rel and PRACK), UPDATE (RFC 3311), INFO DTMF,
// offerless re-INVITEs, 420 for unsupported Require, Allow on every 405 and
// Warning on 488 are in timers.go, prack.go and extensions.go. There is no
// SRTP, no TLS transport and no codec but G.711. A caller whose call rings
// an agent's app gets 180 and a 183 with our ringback as early media; a
// carrier's own early media (183 with SDP) is not played to the app, which
// plays its own ringback. docs/sip-gateway.md describes the configuration
// and a carrier interconnect checklist.
package sipgw
