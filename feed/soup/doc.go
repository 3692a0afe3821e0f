// Package soup is tickwire's SoupBinTCP client session: it logs in to an
// ITCH-over-TCP (or GLIMPSE) server, delivers each Sequenced Data packet
// with its sequence number, keeps the link alive with Client Heartbeats,
// detects a silent server, and reconnects after a drop, resuming at the
// next expected sequence number in the same session.
//
// The wire format (framing, login packets) is package codec/soupbintcp;
// PROTOCOLS.md §5 restates SoupBinTCP 3.00/4.x. Sequence numbers are counted
// here: Login Accepted gives the next one, and each 'S' packet takes the
// next.
//
// # Hostile servers
//
// A server's reply can at worst withhold or supply what it carries: it never
// makes the session apply a message twice, skip one silently, move its
// sequence number to an implausible value, hang or hold more than one
// packet (at most 65537 bytes) of memory. Every Login Accepted is checked
// against the session and the next expected sequence number (see Handler):
// a resumption ahead is reported as a gap, one behind drops the duplicates.
// A packet must complete within Config.PacketTimeout of its first byte and
// only complete packets show the server alive, so a drip-fed packet cannot
// defeat the silence rule. Whatever cannot be trusted is counted (Stats),
// reported with an error naming the fault and where (FaultHandler,
// Session.LastFault), and answered by dropping the connection and resuming
// at the next expected sequence number. Only Login Rejected, End of Session
// and a Login Accepted of another session (ErrSessionChanged) stop it.
//
// # Event loop
//
// A Session runs on a gnet v2 client (gnet.NewClient) with one event loop:
// every Handler call is made from that loop, one at a time, and a message
// slice aliases gnet's read buffer (or the framer's scratch array for a
// packet split across reads), so it is valid only during the call. gnet's
// ticker goroutine watches the server's silence and the packet deadline and
// sends Client Heartbeats; it touches the connection only through gnet's
// concurrency-safe AsyncWrite and Close, and only with an immutable packet.
// Dialling happens outside the loop (gnet's Dial blocks until the loop has
// registered the connection).
package soup
