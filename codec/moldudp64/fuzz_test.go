package moldudp64_test

import (
	"bytes"
	"testing"

	"github.com/tickwire/tickwire/codec/moldudp64"
)

// FuzzPacket parses arbitrary datagrams and iterates over their blocks.
// Nothing may panic; the blocks returned must lie inside the packet, back to
// back, consuming no more bytes than it has; a packet accepted without error
// must hold exactly Messages() blocks and re-encode to the same bytes.
func FuzzPacket(f *testing.F) {
	good := itchPacket(1000)
	f.Add(good)
	f.Add(good[:len(good)-1])                    // truncated last block
	f.Add(append(good[:len(good):len(good)], 0)) // trailing byte
	f.Add(moldudp64.AppendHeartbeat(nil, session, 7))
	f.Add(moldudp64.AppendEndOfSession(nil, session, 7))
	f.Add(moldudp64.Request{Session: session, Seq: 5, Count: 10}.Append(nil))
	f.Add(moldudp64.AppendBlock(moldudp64.AppendHeader(nil, session, 1, 2), nil)) // count too high
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := moldudp64.Parse(data)
		if err != nil {
			if len(data) >= moldudp64.HeaderLen || err != moldudp64.ErrShortPacket {
				t.Fatalf("Parse(%d bytes): %v", len(data), err)
			}
			return
		}
		_ = p.Session()
		_ = p.NextSeq()

		it := p.Blocks()
		off := moldudp64.HeaderLen
		rebuilt := moldudp64.AppendHeader(nil, [10]byte(p.Session()), p.Seq(), p.Count())
		for m, ok := it.Next(); ok; m, ok = it.Next() {
			off += 2 + len(m)
			if off > len(data) {
				t.Fatalf("blocks consumed %d bytes of a %d-byte packet", off, len(data))
			}
			if len(m) > 0 && &m[0] != &data[off-len(m)] {
				t.Fatalf("block %d does not alias the packet at its offset", it.N())
			}
			if it.N() > p.Messages() {
				t.Fatalf("%d blocks returned, packet announces %d", it.N(), p.Messages())
			}
			rebuilt = moldudp64.AppendBlock(rebuilt, m)
		}
		if it.Offset() != off {
			t.Fatalf("Offset() = %d, blocks end at %d", it.Offset(), off)
		}
		err = it.Err()
		if err != p.Validate() {
			t.Fatalf("Err() = %v but Validate() = %v", err, p.Validate())
		}
		if err == nil {
			if it.N() != p.Messages() || off != len(data) {
				t.Fatalf("accepted with %d of %d blocks, %d of %d bytes", it.N(), p.Messages(), off, len(data))
			}
			if !bytes.Equal(rebuilt, data) {
				t.Fatalf("re-encoding differs:\n got % x\nwant % x", rebuilt, data)
			}
		} else if it.N() == p.Messages() && off == len(data) {
			t.Fatalf("well-formed packet rejected: %v", err)
		}
	})
}
