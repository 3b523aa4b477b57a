package sipgw

import "errors"

// Errors of the gateway, usable with errors.Is.
var (
	// ErrBadRule: a number rewriting rule cannot be compiled.
	ErrBadRule = errors.New("bad rewrite rule")
	// ErrNoTrunk: no configured trunk takes the number dialled.
	ErrNoTrunk = errors.New("no trunk for the number")
	// ErrClosed: the gateway has been closed.
	ErrClosed = errors.New("sip gateway closed")
	// ErrNotListening: Serve or Dial before Listen.
	ErrNotListening = errors.New("sip gateway is not listening")
)
