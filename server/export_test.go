package server

// WithStartTimeout lets tests shorten wire.StartTimeout.
var WithStartTimeout = withStartTimeout
