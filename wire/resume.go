package wire

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"time"
)

// Call resumption (PROTOCOL.md, "Call resumption"). A client that names
// FeatureResume in its /v1/call upgrade's HeaderFeatures is sent
// resumable{callId, token, ms} before the server's first reply to its start. When its socket fails it opens a new /v1/call
// socket whose first message is resume{callId, token}; the server answers
// resumed{callId, state} and goes on with the call on the new socket, or
// error{code} (not_found, call_ended) or end{reason} and closes.

const (
	// MediaTimeout is how long an answered resumable call may go without
	// anything arriving (audio, a message or a pong: a resumable client
	// pings every second) before each side counts the connection as lost:
	// the client reconnects, the server tells the far party.
	MediaTimeout = 3 * time.Second
	// DefaultResumeGrace is how long the reference server keeps a call
	// whose party's connection is lost, waiting for a resume.
	DefaultResumeGrace = 30 * time.Second
	// MaxResumeGrace bounds resumable.ms.
	MaxResumeGrace = 10 * time.Minute

	// resumeTokenBytes is the entropy of a resume token; its text is the
	// unpadded base64url of that many random bytes.
	resumeTokenBytes = 32
	resumeTokenLen   = 43
)

// NewResumeToken returns a fresh random resume token.
func NewResumeToken() string {
	var b [resumeTokenBytes]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// CheckResumeToken reports whether t has the form of a resume token: 43
// characters of unpadded base64url.
func CheckResumeToken(t string) error {
	if why := tokenProblem(t); why != "" {
		return malformed("token %s", why)
	}
	return nil
}

func tokenProblem(t string) string {
	if len(t) != resumeTokenLen {
		return fmt.Sprintf("has %d characters, not %d", len(t), resumeTokenLen)
	}
	if _, err := base64.RawURLEncoding.DecodeString(t); err != nil {
		return "is not unpadded base64url"
	}
	return ""
}

// ResumeTokenHash is what a server keeps of a token: it compares hashes
// with SameResumeToken, so neither the token nor a timing difference leaks.
type ResumeTokenHash [sha256.Size]byte

// HashResumeToken hashes t.
func HashResumeToken(t string) ResumeTokenHash { return sha256.Sum256([]byte(t)) }

// SameResumeToken compares two hashes in constant time.
func SameResumeToken(a, b ResumeTokenHash) bool { return subtle.ConstantTimeCompare(a[:], b[:]) == 1 }

// validateResume checks resumable, resume and resumed.
func validateResume(m Message) error {
	if m.CallID == "" {
		return malformed("%s: missing callId", m.Type)
	}
	switch m.Type {
	case TypeResumable, TypeResume:
		if why := tokenProblem(m.Token); why != "" {
			return malformed("%s: token %s", m.Type, why)
		}
		if m.Type == TypeResumable && (m.MS < 1 || m.MS > MaxResumeGrace.Milliseconds()) {
			return malformed("resumable: ms %d is outside 1..%d", m.MS, MaxResumeGrace.Milliseconds())
		}
	case TypeResumed:
		if m.State != "ringing" && m.State != "active" {
			return malformed("resumed: state %s is not ringing or active", Quote(m.State))
		}
	}
	return nil
}
