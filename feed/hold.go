package feed

// slot is one held packet.
type slot struct {
	data  []byte // the held copy (whole packet, header included)
	own   []byte // the slot's preallocated buffer in the arena, PacketSize bytes
	first uint64 // sequence of the first message
	end   uint64 // sequence after the last message
	at    int64  // now when the packet was held
	hpos  int32  // index in holdSet.heap
	line  int32  // line received on, -1 beyond MaxLines
}

// holdSet is the pool of held packets: a fixed number of slots whose buffers
// are carved from one arena, an index of the held slots in sequence order and
// a min-heap of the held slots by arrival time.
//
// The index is kept free of nesting: no held range contains another (the
// Arbiter drops the contained one), so the held ranges are sorted by their
// first and by their end sequence at once, strictly. That is what lets the
// Arbiter find the packets overlapping a range with a binary search.
//
// Not safe for concurrent use.
type holdSet struct {
	slots []slot
	free  []int32 // stack of unused slots
	order []int32 // held slots by first (and end) sequence, ascending
	heap  []int32 // held slots, min-heap on at
	bytes int     // sum of len(data) over the held slots
}

func newHoldSet(n, size int) holdSet {
	h := holdSet{
		slots: make([]slot, n),
		free:  make([]int32, n),
		order: make([]int32, 0, n),
		heap:  make([]int32, 0, n),
	}
	arena := make([]byte, n*size)
	for i := range h.slots {
		h.slots[i].own = arena[i*size : (i+1)*size : (i+1)*size]
		h.free[i] = int32(n - 1 - i)
	}
	return h
}

func (h *holdSet) len() int { return len(h.order) }

// at returns the i-th held slot in sequence order.
func (h *holdSet) at(i int) *slot { return &h.slots[h.order[i]] }

// lastEnd returns the end of the highest held range, 0 if none is held.
func (h *holdSet) lastEnd() uint64 {
	if len(h.order) == 0 {
		return 0
	}
	return h.at(len(h.order) - 1).end
}

// oldest returns the smallest arrival time of the held slots; the set must not
// be empty.
func (h *holdSet) oldest() int64 { return h.slots[h.heap[0]].at }

// searchEnd returns the first index in order whose end is above seq.
func (h *holdSet) searchEnd(seq uint64) int {
	lo, hi := 0, len(h.order)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if h.slots[h.order[m]].end <= seq {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// searchFirst returns the first index in order whose first is at or above seq.
func (h *holdSet) searchFirst(seq uint64) int {
	lo, hi := 0, len(h.order)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if h.slots[h.order[m]].first < seq {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// covered reports whether the held ranges cover [first, end) entirely.
func (h *holdSet) covered(first, end uint64) bool {
	c := first
	for i := h.searchEnd(first); i < len(h.order); i++ {
		s := h.at(i)
		if s.first > c {
			return false
		}
		c = s.end // ends ascend: s.end > c
		if c >= end {
			return true
		}
	}
	return false
}

// contained returns the index range [i, j) of the held ranges inside
// [first, end), and their total size in bytes.
func (h *holdSet) contained(first, end uint64) (i, j, bytes int) {
	i = h.searchFirst(first)
	j = i
	for j < len(h.order) && h.at(j).end <= end {
		bytes += len(h.at(j).data)
		j++
	}
	return i, j, bytes
}

// replace removes the held slots order[i:j] and holds a copy of p as [first, end) in their place. The caller
// has checked that a slot is free once order[i:j] are released, and that the
// new range nests with none left.
func (h *holdSet) replace(i, j int, p []byte, first, end uint64, at int64, line int32) {
	for k := i; k < j; k++ {
		h.release(h.order[k])
	}
	id := h.free[len(h.free)-1]
	h.free = h.free[:len(h.free)-1]
	s := &h.slots[id]
	if len(p) <= len(s.own) {
		s.data = s.own[:copy(s.own, p)]
	} else {
		s.data = append([]byte(nil), p...) // longer than PacketSize: rare
	}
	s.first, s.end, s.at, s.line = first, end, at, line
	h.bytes += len(s.data)
	h.push(id)
	if j > i {
		h.order[i] = id
		h.order = append(h.order[:i+1], h.order[j:]...)
		return
	}
	h.order = append(h.order, 0)
	copy(h.order[i+1:], h.order[i:])
	h.order[i] = id
}

// release returns slot id to the free stack; the caller removes it from order.
func (h *holdSet) release(id int32) {
	s := &h.slots[id]
	h.bytes -= len(s.data)
	s.data = nil
	h.remove(int(s.hpos))
	h.free = append(h.free, id)
}

// trim removes the first n entries of order; their slots are released already.
func (h *holdSet) trim(n int) {
	h.order = h.order[:copy(h.order, h.order[n:])]
}

// Heap on slots[id].at, with slots[id].hpos tracking positions.

func (h *holdSet) less(a, b int) bool {
	return h.slots[h.heap[a]].at < h.slots[h.heap[b]].at
}

func (h *holdSet) swap(a, b int) {
	h.heap[a], h.heap[b] = h.heap[b], h.heap[a]
	h.slots[h.heap[a]].hpos = int32(a)
	h.slots[h.heap[b]].hpos = int32(b)
}

func (h *holdSet) push(id int32) {
	h.heap = append(h.heap, id)
	i := len(h.heap) - 1
	h.slots[id].hpos = int32(i)
	h.up(i)
}

func (h *holdSet) remove(i int) {
	n := len(h.heap) - 1
	if i != n {
		h.swap(i, n)
	}
	h.heap = h.heap[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
}

func (h *holdSet) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h *holdSet) down(i0 int) bool {
	i, n := i0, len(h.heap)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && h.less(r, l) {
			c = r
		}
		if !h.less(c, i) {
			break
		}
		h.swap(i, c)
		i = c
	}
	return i > i0
}
