// Package instance keeps one running phone per user and profile: a second
// start (from the menu, or from a tel: link a browser or CRM opened) hands
// its request to the running phone over a local channel and exits, and the
// running phone's window comes to the front.
//
// The channel is a Unix domain socket (Linux, macOS, and Windows 10 1803 or
// later, where Go supports AF_UNIX too) in a directory only the user can
// enter: $XDG_RUNTIME_DIR/onecxi where the session has one, else
// <user cache dir>/onecxi/run, created with mode 0700 and refused if it is
// not the user's own or others can enter it. Other users therefore cannot
// connect, nor plant a socket for the phone to talk to.
//
// One request per connection: a JSON object of at most 4 KiB, answered with
// one JSON line ({"ok":true} or {"error":"…"}).
package instance
