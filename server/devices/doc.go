// Package devices is the device registry's storage: which devices (an app
// install, with its platform and push tokens) ring when a registered number
// is called (PROTOCOL.md, "Device registry").
//
// [Store] is the small interface the server and the push deliverer use;
// [Memory] keeps registrations for a server's life (tests, the phone's
// embedded demo server), and package devices/sqlite keeps them in a file.
// Package devices/devicestest is the behaviour every Store must show, so a
// further implementation (PostgreSQL) is checked by the same tests.
package devices
