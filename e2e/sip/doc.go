// Package sip holds the SIP gateway's end-to-end tests: a real SIP phone
// (baresip) and PBX (Kamailio), or a sipgo peer, on one side; the gateway
// (server/sipgw) and the reference server in the middle; the phone's SDK
// (callcore) on the other side, with its audio checked by Goertzel
// detection. They live here, not beside the gateway, because they drive
// the client SDK, which nothing under server/ imports.
package sip
