//go:build !unix

package instance

// checkPrivate relies on the OS: on Windows the directory is under the
// user's own profile (%LocalAppData%), which other users cannot enter.
func checkPrivate(string) error { return nil }
