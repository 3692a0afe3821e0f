package sim

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tickwire/tickwire/codec/moldudp64"
)

// ServerConfig configures the re-request server.
type ServerConfig struct {
	Session     string
	MaxPayload  int           // bytes per answer packet (default 1400)
	AnswerLimit int           // messages answered per request at most (default 500)
	Delay       time.Duration // wait before answering (a slow server)
	Loss        float64       // probability of ignoring a request (a lossy server)
	Seed        uint64
}

// ServerStats counts requests; safe to read while the server runs.
type ServerStats struct {
	Requests, Answered, Ignored, Malformed, Packets, Messages atomic.Uint64
}

// Server answers MoldUDP64 request packets from a History: each request
// (session, first sequence, count) is answered with ordinary downstream
// packets unicast to the requester, at most AnswerLimit messages, fewer
// when the history ends. Its methods are safe for concurrent use.
type Server struct {
	cfg     ServerConfig
	session [10]byte
	h       *History
	conn    *net.UDPConn
	down    atomic.Bool
	mu      sync.Mutex // guards rng
	rng     *rand.Rand
	Stats   ServerStats
}

// NewServer listens on addr (unicast UDP).
func NewServer(addr netip.AddrPort, cfg ServerConfig, h *History) (*Server, error) {
	if cfg.MaxPayload == 0 {
		cfg.MaxPayload = 1400
	}
	if cfg.AnswerLimit == 0 {
		cfg.AnswerLimit = 500
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, session: moldudp64.MakeSession(cfg.Session), h: h, conn: conn,
		rng: rand.New(rand.NewPCG(cfg.Seed, 99))}, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() netip.AddrPort { return s.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// SetDown makes the server ignore every request (true) or answer again.
func (s *Server) SetDown(down bool) { s.down.Store(down) }

// Close stops Serve.
func (s *Server) Close() error { return s.conn.Close() }

// Serve answers requests until Close.
func (s *Server) Serve() error {
	buf := make([]byte, 2048)
	var out []byte
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		s.Stats.Requests.Add(1)
		req, err := moldudp64.ParseRequest(buf[:n])
		if err != nil || req.Session != s.session || req.Seq == 0 {
			s.Stats.Malformed.Add(1)
			continue
		}
		s.mu.Lock()
		drop := s.rng.Float64() < s.cfg.Loss
		s.mu.Unlock()
		if s.down.Load() || drop {
			s.Stats.Ignored.Add(1)
			continue
		}
		if s.cfg.Delay > 0 {
			time.Sleep(s.cfg.Delay)
		}
		s.Stats.Answered.Add(1)
		left := min(int(req.Count), s.cfg.AnswerLimit)
		for seq := req.Seq; left > 0 && seq <= s.h.Len(); {
			var k int
			out, k = s.h.AppendPacket(out[:0], s.session, seq, left, s.cfg.MaxPayload)
			if k == 0 {
				break
			}
			if _, err := s.conn.WriteToUDPAddrPort(out, from); err != nil {
				return err
			}
			s.Stats.Packets.Add(1)
			s.Stats.Messages.Add(uint64(k))
			seq += uint64(k)
			left -= k
		}
	}
}
