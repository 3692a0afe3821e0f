package soup

import "errors"

// Errors reported by Dial and Session.Err. They are sentinels: compare with
// errors.Is.
var (
	// ErrConfig reports an invalid Config field; the error names it.
	ErrConfig = errors.New("soup: invalid configuration")
	// ErrRejected reports a Login Rejected packet: the session has stopped.
	// The error text names the reason (soupbintcp.RejectReason).
	ErrRejected = errors.New("soup: login rejected")
	// ErrSessionChanged reports a Login Accepted naming another session than
	// the one configured or learned at the first login: the server started
	// a new session, whose sequence numbers say nothing of the old one, so
	// it cannot be resumed. The session has stopped; the error names both
	// sessions.
	ErrSessionChanged = errors.New("soup: server changed session")
)

// Faults: what a server sent that cannot be trusted. Each is counted in
// Stats, reported to a Handler implementing FaultHandler and kept as
// Session.LastFault, wrapped with what happened and where (server, connection
// number, next expected sequence number). None of them stops the session:
// each drops the connection, and the session reconnects and resumes at
// Session.Next, except ErrResumed, which only reports what the session did.
var (
	// ErrPacketTimeout reports a packet begun but not completed within
	// Config.PacketTimeout (a server dripping a packet byte by byte).
	ErrPacketTimeout = errors.New("soup: packet not completed in time")
	// ErrSilence reports a server that sent no complete packet (once logged
	// in), or no answer to the login, for Config.HeartbeatTimeout.
	ErrSilence = errors.New("soup: server silent")
	// ErrUnexpectedPacket reports a packet of a type the server may not send
	// in the connection's state: Sequenced Data, End of Session or
	// Unsequenced Data before Login Accepted, a second Login Accepted or
	// Rejected, a client or unknown type.
	ErrUnexpectedPacket = errors.New("soup: unexpected packet")
	// ErrMalformedPacket reports a packet that cannot be decoded: a Packet
	// Length of 0, or a login answer of the wrong length or with a malformed
	// sequence number.
	ErrMalformedPacket = errors.New("soup: malformed packet")
	// ErrImplausibleSeq reports a Login Accepted whose sequence number cannot
	// be followed: 0, above Config.MaxSeq, or more than Config.MaxGap ahead
	// of the next expected one. It is not adopted.
	ErrImplausibleSeq = errors.New("soup: implausible sequence number in Login Accepted")
	// ErrResumed reports a Login Accepted resuming at another sequence number
	// than the next expected one: ahead, the messages in between are reported
	// as a gap (GapHandler); behind, the messages below the next expected one
	// are dropped as duplicates. The connection is kept.
	ErrResumed = errors.New("soup: server resumed at another sequence number")
)

// errDrop is returned by a framer callback to close the connection; it never
// leaves the package.
var errDrop = errors.New("soup: drop connection")
