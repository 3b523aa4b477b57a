// Package wire is the OneCxi call protocol, implemented once and shared by the
// SDK (callcore) and the reference server (server). PROTOCOL.md is its prose
// description; this package is the normative one.
//
// A call is one WebSocket (subprotocol [Subprotocol]) on [PathCall]. Text
// messages carry JSON control [Message]s; binary messages carry [AudioFrame]s
// of 8 kHz mono signed 16-bit PCM with a sequence number and a timestamp so a
// receiver can detect loss and reorder. A second, long-lived WebSocket on
// [PathEvents] tells a signed-in app about incoming calls.
//
// Every decoder here treats its input as hostile: sizes are bounded, unknown
// message types and malformed fields are rejected with an error wrapping
// [ErrMalformed], and nothing panics (see the fuzz tests).
package wire
