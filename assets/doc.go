// Package assets holds the files OneCxi Phone ships inside its binary, such
// as the application icon, embedded with go:embed so the binary needs nothing
// beside it at run time.
package assets
