// Package media is the media half of the SIP gateway (package sipgw): it
// bridges the server's WebSocket audio, 8 kHz mono 16-bit wire frames (see
// package wire), to G.711 over RTP.
//
// It holds:
//   - the G.711 codecs PCMU and PCMA ([Codec]);
//   - SDP offer/answer for one audio stream ([Offer], [Parse], [Answer],
//     RFC 4566 and RFC 3264), through github.com/pion/sdp/v3;
//   - RFC 4733 telephone-events for DTMF ([EncodeEvent], [DecodeEvent]);
//   - an RTP [Session] on one UDP socket, through github.com/pion/rtp: wire
//     frames from the app become one RTP packet each, received packets
//     become wire frames for a [Sink], far-end digits are reported and ours
//     sent as telephone-events.
//
// # Symmetric RTP
//
// A session sends from the port it receives on (symmetric RTP, RFC 4961),
// and sends to the address given in SDP only until the first valid packet
// arrives; from then on it sends to the source address of the latest valid
// packet ("latching", RFC 7362). A far end behind NAT advertises an address
// it cannot be reached at, but its packets show where it can. Valid means
// RTP version 2 with the negotiated codec's or telephone-event payload type
// from the stream being received (its SSRC), so stray datagrams do not move
// the stream. A host that can see or guess the stream could still redirect
// it: the accepted price of working through NAT (SRTP would be the cure). A
// re-INVITE with a new address undoes the latch; one repeating the old
// address keeps it, so a hold/resume does not lose a NATed far end.
//
// # Receiving
//
// Received audio goes to the sink as it arrives, one wire frame per packet
// (split if longer than wire.MaxFrameSamples), with the RTP timestamp and
// the RTP sequence number extended to 32 bits. A new stream (another SSRC,
// or a sender restarting its numbering) continues the wire numbering and
// sets the marker flag, so the app's jitter buffer resynchronises.
// Re-ordering and loss concealment are left to that jitter buffer.
//
// # Limits
//
// G.711 only (PCMU, PCMA), 8 kHz, no transcoding and no packet loss
// concealment (the app's jitter buffer conceals). No SRTP: offers with only
// RTP/SAVP audio are [ErrNoAudio]. No RTCP: nothing is sent or read on the
// RTCP port, so the far end sees no receiver reports; [Session.Stats] has
// the counters RTCP would carry. SDP with m= lines pion/sdp does not know
// (m=image for T.38 fax) does not parse, which ends in 488 Not Acceptable
// Here, as fax is not supported. OnTimeout only watches a sendrecv stream:
// a far end on hold may legitimately send nothing.
package media
