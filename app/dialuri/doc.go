// Package dialuri reads the links a browser or a CRM opens the phone with
// for click-to-call — tel: (RFC 3966), callto: and sip:/sips: (RFC 3261) —
// and turns them into a number the dialer can call, or a typed error saying
// why the link cannot be dialled. Nothing in a refused link is ever dialled.
//
// Normalisation follows RFC 3966: visual separators (spaces, "-", ".", "(",
// ")", and their Unicode look-alikes) are dropped, a global number keeps its
// leading "+", and a local number with a numeric phone-context gets that
// context as its prefix (tel:555-0100;phone-context=+1-212 is +12125550100).
// A local number in a domain context (phone-context=example.com) is kept as
// dialled. An extension (;ext=) is returned separately, to be sent as DTMF
// once the call is answered. Letters (vanity numbers), a second "+", control
// characters, non-ASCII digits and numbers longer than the protocol allows
// are refused.
package dialuri
