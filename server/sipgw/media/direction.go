package media

// Direction is an audio stream's a=sendrecv/sendonly/recvonly/inactive
// attribute (RFC 3264 section 5.1). In a description it is the describer's
// point of view; given to Session.SetDirection it is ours.
type Direction string

// The four directions.
const (
	SendRecv Direction = "sendrecv"
	SendOnly Direction = "sendonly"
	RecvOnly Direction = "recvonly"
	Inactive Direction = "inactive"
)

// Valid reports whether d is one of the four directions.
func (d Direction) Valid() bool {
	switch d {
	case SendRecv, SendOnly, RecvOnly, Inactive:
		return true
	}
	return false
}

// Sends reports whether d lets its owner send audio. An empty Direction is
// sendrecv, SDP's default.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly || d == "" }

// Receives reports whether d lets its owner receive audio.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly || d == "" }

// directionOf builds a direction from its two halves.
func directionOf(send, recv bool) Direction {
	switch {
	case send && recv:
		return SendRecv
	case send:
		return SendOnly
	case recv:
		return RecvOnly
	}
	return Inactive
}

// Reverse is d seen from the other end: sendonly becomes recvonly.
func (d Direction) Reverse() Direction { return directionOf(d.Receives(), d.Sends()) }
