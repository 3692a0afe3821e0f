package replay

import "io"

// mergeLinear is the reader count up to which Merger picks the earliest
// head by a linear scan; above it, a binary heap.
const mergeLinear = 8

// Merger interleaves the datagrams of several PacketReaders (e.g. the A and B
// lines of a feed captured separately) in timestamp order: each step yields
// the earliest pending datagram, ties going to the lowest reader index. A
// reader whose own timestamps go backwards is still read in its own order.
// A Merger is not safe for concurrent use.
type Merger struct {
	rs      []*PacketReader
	heads   []Datagram // pending datagram of each live reader
	live    []int      // indices of readers with a pending datagram (a heap when len(rs) > mergeLinear)
	last    int        // reader whose datagram was returned last, to advance next; -1 if none
	started bool
	err     error
	errIdx  int
}

// Merge returns a Merger over readers, which it advances as needed; the
// caller must not call their Next methods while merging.
func Merge(readers ...*PacketReader) *Merger {
	return &Merger{
		rs:    readers,
		heads: make([]Datagram, len(readers)),
		live:  make([]int, 0, len(readers)),
		last:  -1,
	}
}

// Next stores the earliest pending datagram in d and returns the index of
// its reader. d.Payload aliases that reader's buffer and is valid until the
// next call to Next. At the end of every reader Next returns (-1, io.EOF);
// a reader's error is returned with its index and is sticky.
func (m *Merger) Next(d *Datagram) (int, error) {
	if m.err != nil {
		return m.errIdx, m.err
	}
	if !m.started {
		m.started = true
		for i, r := range m.rs {
			if err := r.Next(&m.heads[i]); err != nil {
				if err == io.EOF {
					continue
				}
				return m.fail(i, err)
			}
			m.live = append(m.live, i)
			if len(m.rs) > mergeLinear {
				m.up(len(m.live) - 1)
			}
		}
	} else if i := m.last; i >= 0 {
		m.last = -1
		err := m.rs[i].Next(&m.heads[i])
		if err != nil && err != io.EOF {
			return m.fail(i, err)
		}
		if len(m.rs) > mergeLinear {
			// i is at the root of the heap.
			if err == io.EOF {
				n := len(m.live) - 1
				m.live[0] = m.live[n]
				m.live = m.live[:n]
			}
			if len(m.live) > 0 {
				m.down(0)
			}
		} else if err == io.EOF {
			for j, k := range m.live {
				if k == i {
					m.live = append(m.live[:j], m.live[j+1:]...)
					break
				}
			}
		}
	}
	if len(m.live) == 0 {
		m.err, m.errIdx = io.EOF, -1
		return -1, io.EOF
	}
	best := m.live[0]
	if len(m.rs) <= mergeLinear {
		for _, k := range m.live[1:] {
			if m.less(k, best) {
				best = k
			}
		}
	}
	*d = m.heads[best]
	m.last = best
	return best, nil
}

func (m *Merger) fail(i int, err error) (int, error) {
	m.err, m.errIdx = err, i
	return i, err
}

// less orders reader heads by time, then reader index.
func (m *Merger) less(a, b int) bool {
	ta, tb := m.heads[a].Time, m.heads[b].Time
	return ta < tb || ta == tb && a < b
}

func (m *Merger) up(j int) {
	h := m.live
	for j > 0 {
		p := (j - 1) / 2
		if !m.less(h[j], h[p]) {
			break
		}
		h[j], h[p] = h[p], h[j]
		j = p
	}
}

func (m *Merger) down(j int) {
	h := m.live
	n := len(h)
	for {
		c := 2*j + 1
		if c >= n {
			return
		}
		if c+1 < n && m.less(h[c+1], h[c]) {
			c++
		}
		if !m.less(h[c], h[j]) {
			return
		}
		h[j], h[c] = h[c], h[j]
		j = c
	}
}
