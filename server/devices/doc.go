// Package devices is the device registry's storage: which devices (an app
// install, with its platform and push tokens) ring when a registered number
// is called (PROTOCOL.md, "Device registry").
//
// [Store] is the small interface the server and the push deliverer use;
// [Memory] keeps registrations for a server's life (tests, the phone's
// embedded demo server), and package server/sqlstore keeps them in SQLite
// (a deviceDb file of their own, or the shared database) or PostgreSQL.
// Package devices/devicestest is the behaviour every Store must show; both
// run it.
package devices
