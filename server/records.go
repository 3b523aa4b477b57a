package server

import "github.com/onecxi/phone/server/cdr"

// CallRecordStats returns the counters of the call detail record writer:
// records written, dropped (queue full: the database fell behind) and
// failed (the database refused them). Zero without WithCallRecords.
func (s *Server) CallRecordStats() cdr.WriterStats {
	if s.records == nil {
		return cdr.WriterStats{}
	}
	return s.records.Stats()
}
