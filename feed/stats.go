package feed

// MaxLines is the number of lines (0 through MaxLines-1) counted separately
// in Stats.Lines. Packets on other line numbers are arbitrated all the same
// and counted in the totals only.
const MaxLines = 4

// LineStats counts what one line contributed.
type LineStats struct {
	Packets      uint64 // every packet passed to Packet for this line
	Messages     uint64 // messages delivered from this line's copies
	Duplicates   uint64 // packets that delivered nothing: every message was delivered or held already
	Held         uint64 // packets held while a hole below them was open
	Heartbeats   uint64 // heartbeats (count 0)
	EndOfSession uint64 // end-of-session packets (count 0xFFFF)
	Malformed    uint64 // packets treated as not received, see Stats.Malformed
	OtherSession uint64 // packets of another session
	Implausible  uint64 // packets dropped as too far ahead or behind, see Options.MaxJump
	Unsolicited  uint64 // on the recovery line: packets answering no request in flight, see Options.RecoveryLine
	Contradicted uint64 // end-of-session packets announcing a sequence below messages delivered already
}

// Stats counts the work of an Arbiter since NewArbiter.
type Stats struct {
	Packets    uint64 // packets passed to Packet, all lines
	Messages   uint64 // messages delivered to Handler.Message
	Duplicates uint64 // packets that delivered nothing, including held copies made redundant
	Trimmed    uint64 // packets (or held copies) delivered in part because their first messages were delivered already

	Held           uint64 // packets ever held
	HeldPackets    int    // packets held now
	HeldBytes      int    // bytes held now
	MaxHeldPackets int    // high-water mark of HeldPackets
	MaxHeldBytes   int    // high-water mark of HeldBytes

	Gaps        uint64 // calls to Handler.Gap
	GapMessages uint64 // messages reported missing by Handler.Gap

	Heartbeats   uint64 // heartbeats (count 0)
	EndOfSession uint64 // end-of-session packets (count 0xFFFF)
	// Malformed counts packets shorter than a MoldUDP64 header, data
	// packets whose blocks do not match their count or length, whose sequence
	// is 0 or whose range overflows, and heartbeats or end-of-session packets
	// with bytes after the header. A data packet entirely before Next is
	// dropped as a duplicate before its blocks are walked: a malformed
	// duplicate counts as a duplicate.
	Malformed    uint64
	OtherSession uint64 // packets of another session, dropped
	Implausible  uint64 // packets too far ahead, or far behind, and not corroborated (Options.MaxJump), dropped
	Unsolicited  uint64 // recovery-line packets answering no request in flight, dropped (Options.RecoveryLine)
	Clipped      uint64 // recovery-line answers cut to the range requested
	Contradicted uint64 // end-of-session packets announcing a sequence below messages delivered already, dropped
	AfterEnd     uint64 // data packets after the end of the session, dropped
	Jumps        uint64 // corroborated jumps beyond MaxJump taken while the old sequence was quiet (each also a gap)
	Evicted      uint64 // held packets dropped to make room for lower ones (recovery asks for them again)
	// Discarded counts the held packets and announced holes dropped when
	// the end of the session was agreed: sequences beyond the end, which
	// only a rogue packet can have shown.
	Discarded uint64

	// Recovery (WithRecovery); all zero without it.
	Requests          uint64 // request packets sent
	RequestedMessages uint64 // messages asked for by those requests
	Retries           uint64 // request packets sent again after a timeout
	Recovered         uint64 // messages that filled a hole inside a request in flight (answers, or a late line)
	GivenUp           uint64 // holes (or parts) given up after MaxRetries or MaxAge: reported by Gap when next reaches them
	RecoveryOverflow  uint64 // holes given up early because the hold pool was full
	Preempted         uint64 // requests in flight dropped to free a slot for a lower hole
	Outstanding       int    // requests in flight now

	Lines [MaxLines]LineStats
}
