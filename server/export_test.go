package server

// WithStartTimeout lets tests shorten wire.StartTimeout.
var WithStartTimeout = withStartTimeout

// WithAuthClock sets the clock of the failed-authentication back-off.
var WithAuthClock = withAuthClock

// CallLegs is how many call legs (WebSocket or trunk callers) the registry
// still holds.
func (s *Server) CallLegs() int64 { return s.stats.callLegs.Load() }

// MaxPending is how many control messages a lost leg keeps for its resume.
const MaxPending = maxPending
