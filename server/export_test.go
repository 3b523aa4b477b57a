package server

// WithStartTimeout lets tests shorten wire.StartTimeout.
var WithStartTimeout = withStartTimeout

// CallLegs is how many call legs (WebSocket or trunk callers) the registry
// still holds.
func (s *Server) CallLegs() int64 { return s.stats.callLegs.Load() }
