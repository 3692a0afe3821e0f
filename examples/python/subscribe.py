#!/usr/bin/python3
"""subscribe.py: a tickwire subscriber in Python, mirroring the daemon's books.

It speaks the subscriber protocol of transport/tickwire.fbs and
transport/doc.go with nothing but the code flatc --python (2.0.8) generates
from that schema (tickwire/transport/, beside this file, committed and
checked fresh by transport's TestPythonGeneratedFresh), Debian's
python3-flatbuffers (2.0.8) and the standard library:

    /usr/bin/python3 examples/python/subscribe.py --addr 127.0.0.1:27100 \\
        --symbols all --books-on-exit books.jsonl --exit-on-end

It subscribes at depth Levels (every price level), keeps a mirror of each
instrument's levels from its Snapshot and the LevelChanged updates after it,
and writes the mirror, at the end of the session or on SIGTERM or SIGINT, in
the books format of `tickwire replay --books` (book.AppendBooksLine): one
JSON line per instrument in locate order, so that it compares with cmp
against the daemon's own books. It does not reconnect: a lost connection, a
gap in the stream sequence or a frame that does not read ends it with exit
status 1 (after writing the books), as does a ServerError; a refused Hello
exits 1 at once, naming the reason. The Go client (package client) is the
reference for every rule here.

Like the Go client's mirror it is one thread and not safe for concurrent use.
It decodes through the generated accessors, which make an object of every
table and struct they return: about 12 us of CPU an update (38,000 updates
in 0.57 s, process start included, in transport's TestPythonSubscriber on a
2-vCPU AMD development VM), two orders of magnitude more than the Go client;
enough for an example or a few symbols. A client that falls behind is
conflated by the server and resynchronised by its fresh snapshots.
"""

import argparse
import os
import signal
import socket
import ssl
import sys

# The generated modules sit beside this script: no bytecode written into
# the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import flatbuffers  # noqa: E402  (Debian's python3-flatbuffers)
except ImportError:
    sys.exit("subscribe.py: no flatbuffers module in %s (apt-get install -y python3-flatbuffers, "
             "and run /usr/bin/python3)" % sys.executable)
from tickwire.transport import (  # noqa: E402
    Body, Depth, ErrorCode, FeedState, Frame, Hello, HelloReply, LevelChanged,
    Message, ServerError, Side, Snapshot, Stamp, Status, Subscribe, TradingState,
)

PROTOCOL_VERSION = 1  # transport.ProtocolVersion
FILE_IDENTIFIER = b"TWP1"
MAX_FRAME = 1 << 20  # transport.MaxFrameSize: the length prefix's bound
MIN_FRAME = 12  # root offset, identifier and the smallest table
CLIENT_NAME = "subscribe.py"

ERROR_NAMES = {v: k for k, v in vars(ErrorCode.ErrorCode).items() if not k.startswith("_")}
STATE_NAMES = {v: k for k, v in vars(FeedState.FeedState).items() if not k.startswith("_")}


class Fail(Exception):
    """The session failed: the message is printed and the exit status is 1."""


class Stop(Exception):
    """SIGTERM or SIGINT arrived: write the books and exit 0."""


class Instrument:
    """One instrument's mirror: levels per side as {price: (shares, orders)}."""

    __slots__ = ("locate", "symbol", "state", "suspect", "bids", "asks", "partial")

    def __init__(self, locate):
        self.locate = locate
        self.symbol = b""  # unpadded; empty until a Snapshot names it
        self.state = 0  # ITCH trading state character, 0 until known
        self.suspect = False
        self.bids = {}
        self.asks = {}
        self.partial = False  # a Snapshot in parts is being received


class Mirror:
    """The books of every instrument seen, by locate (client.Book)."""

    def __init__(self):
        self.inst = {}
        self.subscribed = False  # the server accepted the Hello
        self.stamp = Stamp.Stamp()  # reused: a view, valid for one update

    def instrument(self, locate):
        """Returns the instrument at locate, creating it (as SetLevel does)."""
        i = self.inst.get(locate)
        if i is None:
            i = self.inst[locate] = Instrument(locate)
        return i

    def snapshot(self, s):
        """Resets an instrument from a Snapshot, or adds its next part."""
        i = self.instrument(s.Locate())
        if not i.partial:
            # client.Instrument keeps the symbol in 8 space-padded bytes and
            # writes it trimmed of spaces and zeros.
            i.symbol = (s.Stock() or b"")[:8].rstrip(b" \x00")
            i.state = s.TradingState()
            i.suspect = s.Suspect()
            i.bids, i.asks = {}, {}
        i.partial = s.More()
        for n in range(s.BidLevelsLength()):
            lv = s.BidLevels(n)
            set_level(i.bids, lv.Price(), lv.Shares(), lv.OrderCount())
        for n in range(s.AskLevelsLength()):
            lv = s.AskLevels(n)
            set_level(i.asks, lv.Price(), lv.Shares(), lv.OrderCount())
        # An Orders snapshot (not what this client subscribes to) adds up.
        for side, count, get in ((i.bids, s.BidOrdersLength(), s.BidOrders),
                                 (i.asks, s.AskOrdersLength(), s.AskOrders)):
            for n in range(count):
                o = get(n)
                shares, orders = side.get(o.Price(), (0, 0))
                side[o.Price()] = (shares + o.Shares(), orders + 1)

    def level_changed(self, v):
        """Sets the level (side, price); an order count of 0 removes it."""
        i = self.instrument(v.Stamp(self.stamp).Locate())
        side = v.Side()
        if side == Side.Side.Buy:
            set_level(i.bids, v.Price(), v.Shares(), v.OrderCount())
        elif side == Side.Side.Sell:
            set_level(i.asks, v.Price(), v.Shares(), v.OrderCount())

    def write_books(self, path):
        """Writes every instrument in locate order in the books format."""
        out = bytearray()
        for locate in sorted(self.inst):
            i = self.inst[locate]
            out += b'{"locate":%d,"symbol":' % locate
            out += json_string(i.symbol)
            out += b',"bids":' + levels(i.bids, True)
            out += b',"asks":' + levels(i.asks, False)
            if i.suspect:
                out += b',"suspect":true'
            out += b"}\n"
        with open(path, "wb") as f:
            f.write(out)


def set_level(side, price, shares, orders):
    if orders == 0:
        side.pop(price, None)
    else:
        side[price] = (shares, orders)


def levels(side, best_high):
    """[[price,shares,orders],...], best first (highest bid, lowest ask)."""
    return b"[" + b",".join(b"[%d,%d,%d]" % (p, side[p][0], side[p][1])
                            for p in sorted(side, reverse=best_high)) + b"]"


def json_string(s):
    """Quotes a symbol exactly as book.appendJSONString does."""
    out = bytearray(b'"')
    for c in s:
        if c in (0x22, 0x5C):
            out += b"\\" + bytes((c,))
        elif c < 0x20 or c >= 0x7F:
            out += b"\\u%04x" % c
        else:
            out.append(c)
    return bytes(out + b'"')


class Conn:
    """A connection: frames out with a stream sequence from 1, frames in
    cut from the byte stream and checked for gaps."""

    def __init__(self, addr, timeout, tls=None):
        host, _, port = addr.rpartition(":")
        host = host.strip("[]")
        try:
            self.sock = socket.create_connection((host, int(port)), timeout=timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls is not None:
                self.sock = tls.wrap_socket(self.sock, server_hostname=host)
        except ssl.SSLCertVerificationError as e:
            raise Fail("TLS with %s: %s" % (addr, e.verify_message or e))
        except (OSError, ValueError) as e:
            raise Fail("connecting to %s: %s" % (addr, e))
        self.pending = bytearray()
        self.seq_in = 0
        self.seq_out = 0

    def send(self, build):
        """Sends one frame holding the message build(builder) returns as
        (body type, table offset)."""
        b = flatbuffers.Builder(256)
        body_type, body = build(b)
        Message.Start(b)
        Message.AddBodyType(b, body_type)
        Message.AddBody(b, body)
        msg = Message.End(b)
        Frame.StartMessagesVector(b, 1)
        b.PrependUOffsetTRelative(msg)
        msgs = b.EndVector()
        self.seq_out += 1
        Frame.Start(b)
        Frame.AddStreamSeq(b, self.seq_out)
        Frame.AddMessages(b, msgs)
        b.FinishSizePrefixed(Frame.End(b), FILE_IDENTIFIER)
        self.sock.sendall(b.Output())

    def frames(self):
        """Yields each frame the server sends, as a Frame over its own bytes."""
        while True:
            pos = 0
            p = self.pending
            while len(p) - pos >= 4:
                n = int.from_bytes(p[pos:pos + 4], "little")
                if n < MIN_FRAME or n > MAX_FRAME:
                    raise Fail("bad frame: length %d" % n)
                if len(p) - pos < 4 + n:
                    break
                buf = bytes(p[pos:pos + 4 + n])
                pos += 4 + n
                if not Frame.Frame.FrameBufferHasIdentifier(buf, 0, size_prefixed=True):
                    raise Fail("bad frame: identifier %r, want %r" % (buf[8:12], FILE_IDENTIFIER))
                f = Frame.Frame.GetRootAs(buf, 4)
                seq = f.StreamSeq()
                if seq != self.seq_in + 1:
                    raise Fail("stream sequence %d after %d: frames lost" % (seq, self.seq_in))
                self.seq_in = seq
                yield f
            del p[:pos]
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                raise Fail("the server sent nothing for %.1f s" % self.sock.gettimeout())
            except OSError as e:
                raise Fail("reading: %s" % e)
            if not data:
                raise Fail("the server closed the connection")
            p += data


def hello(b, token):
    tok = b.CreateString(token) if token else None
    name = b.CreateString(CLIENT_NAME)
    Hello.Start(b)
    Hello.AddVersion(b, PROTOCOL_VERSION)
    if tok is not None:
        Hello.AddToken(b, tok)
    Hello.AddClientName(b, name)
    return Body.Body.Hello, Hello.End(b)


def subscribe(b, stocks):
    vec = None
    if stocks:
        offs = [b.CreateString(s) for s in stocks]
        Subscribe.StartStocksVector(b, len(offs))
        for o in reversed(offs):
            b.PrependUOffsetTRelative(o)
        vec = b.EndVector()
    Subscribe.Start(b)
    if vec is not None:
        Subscribe.AddStocks(b, vec)
    else:
        Subscribe.AddAllStocks(b, True)
    Subscribe.AddDepth(b, Depth.Depth.Levels)
    return Body.Body.Subscribe, Subscribe.End(b)


def table(cls, m):
    """The union member of message m as a cls."""
    t = m.Body()
    if t is None:
        raise Fail("bad frame: a message without its body")
    v = cls()
    v.Init(t.Bytes, t.Pos)
    return v


def server_error(m):
    e = table(ServerError.ServerError, m)
    code = e.Code()
    return Fail("server error: %s: %s" % (ERROR_NAMES.get(code, "code %d" % code),
                                          (e.Text() or b"").decode("utf-8", "replace")))


def run(args, mirror, log):
    """Runs the session; returns when the server says it ended."""
    tls = None
    if args.tls or args.ca:
        tls = ssl.create_default_context(cafile=args.ca)
    conn = Conn(args.addr, 10.0, tls)
    conn.send(lambda b: hello(b, args.token))
    frames = conn.frames()
    reply = None
    while reply is None:
        f = next(frames)
        for k in range(f.MessagesLength()):
            m = f.Messages(k)
            if m.BodyType() == Body.Body.HelloReply:
                reply = table(HelloReply.HelloReply, m)
                break
            if m.BodyType() == Body.Body.ServerError:
                raise server_error(m)
    if not reply.Accepted():
        raise Fail("refused by the server: %s" % (reply.Reason() or b"").decode("utf-8", "replace"))
    # The server sends a frame at least every heartbeat_ms: silence for
    # several of them is a dead connection.
    conn.sock.settimeout(max(5.0, 5 * reply.HeartbeatMs() / 1000.0))
    stocks = [] if args.symbols == "all" else [s.strip() for s in args.symbols.split(",") if s.strip()]
    conn.send(lambda b: subscribe(b, stocks))
    mirror.subscribed = True
    log("subscribed to %s at %s (depth levels)" % (args.symbols, args.addr))

    snapshots = updates = 0
    for f in frames:
        for k in range(f.MessagesLength()):
            m = f.Messages(k)
            t = m.BodyType()
            if t == Body.Body.LevelChanged:
                mirror.level_changed(table(LevelChanged.LevelChanged, m).Fields())
                updates += 1
            elif t == Body.Body.Snapshot:
                mirror.snapshot(table(Snapshot.Snapshot, m))
                snapshots += 1
            elif t == Body.Body.TradingState:
                v = table(TradingState.TradingState, m)
                i = mirror.inst.get(v.Stamp().Locate())
                if i is not None:
                    i.state = v.State()
            elif t == Body.Body.Status:
                s = table(Status.Status, m)
                log("status: %s (%s) at feed sequence %d" % (
                    STATE_NAMES.get(s.State(), s.State()),
                    (s.Reason() or b"").decode("utf-8", "replace"), s.FeedSeq()))
                if s.State() == FeedState.FeedState.EndOfSession and s.Locate() == 0:
                    log("%d snapshots, %d updates; session ended" % (snapshots, updates))
                    return
            elif t == Body.Body.ServerError:
                raise server_error(m)
            # Everything else (trades, Reg SHO, LULD, heartbeats, and Body
            # types of a newer schema) leaves the levels as they are.


def main(argv):
    ap = argparse.ArgumentParser(prog="subscribe.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--addr", default="127.0.0.1:27100", metavar="HOST:PORT",
                    help="the daemon's subscriber address (transport.listen)")
    ap.add_argument("--token", default="", help="the daemon's transport.token, if it has one")
    ap.add_argument("--symbols", default="all", metavar="A,B,...", help="stocks to subscribe to, or all")
    ap.add_argument("--books-on-exit", metavar="FILE",
                    help="write the mirrored books to FILE at the end of the session or on SIGTERM")
    ap.add_argument("--exit-on-end", action="store_true",
                    help="exit 0 once the daemon announces the end of the session")
    ap.add_argument("--quiet", action="store_true", help="no status lines on stderr")
    ap.add_argument("--tls", action="store_true",
                    help="connect with TLS, trusting the system's authorities (the daemon's transport.tls)")
    ap.add_argument("--ca", metavar="FILE", help="connect with TLS, trusting the authorities in FILE (PEM) alone")
    args = ap.parse_args(argv)
    if args.symbols != "all" and not any(s.strip() for s in args.symbols.split(",")):
        ap.error("--symbols: no stock named")

    def log(line):
        if not args.quiet:
            print("subscribe.py: " + line, file=sys.stderr, flush=True)

    def stop(signum, _frame):
        raise Stop(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    mirror = Mirror()
    failure, ended = None, False
    try:
        run(args, mirror, log)
        ended = True
    except Stop as e:
        failure = None if mirror.subscribed else Fail("%s before the server accepted the Hello" % e)
        log("%s: stopping" % e)
    except Fail as e:
        failure = e
    except Exception as e:  # a frame the generated accessors could not read
        failure = Fail("bad frame: %s: %s" % (type(e).__name__, e))
    if not mirror.subscribed:
        # Not connected, refused or cut off before subscribing: final, and
        # no books to write (as tickwire subscribe).
        print("subscribe.py: %s" % failure, file=sys.stderr, flush=True)
        return 1
    # From here a signal waits its turn: the books are written whole.
    signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    if args.books_on_exit:
        try:
            mirror.write_books(args.books_on_exit)
        except OSError as e:
            print("subscribe.py: writing the books: %s" % e, file=sys.stderr, flush=True)
            return 1
    if failure is not None:
        print("subscribe.py: %s" % failure, file=sys.stderr, flush=True)
        return 1
    if ended and not args.exit_on_end:
        # Without --exit-on-end the mirror stays up until a signal.
        signal.sigwait(signals)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
