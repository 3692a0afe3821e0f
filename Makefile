# tickwire — see README.md.
GO        ?= go
PKGS      := ./...
BENCHTIME ?= 1s
FUZZTIME  ?= 10s
# sessions the randomized adversary test plays in make fuzz (make test plays 40)
ADVERSARY_ROUNDS ?= 20000

.PHONY: all build test test-cluster vet race invariants lint bench load soak fuzz generate sample clean

all: build

build:
	$(GO) build -o bin/tickwire ./tools/tickwire

# test is what CI runs: vet, the whole suite under the race detector, and the
# whole suite again with the invariants build tag (expensive consistency checks on).
# The randomized tests of feed/ play fixed seeds here (FEED_SEED), so that CI
# is reproducible; make fuzz plays new ones. FEED_SEED= make test plays new
# ones too.
FEED_SEED ?= 20261207
export FEED_SEED

test: vet
	$(GO) test -race -count=1 $(PKGS)
	$(GO) test -tags invariants -count=1 $(PKGS)

# test-cluster runs the three-node JetStream cluster test (its leader killed
# mid-session) five times; make test runs it once, in its pass without the
# race detector.
test-cluster:
	$(GO) test -count=5 -run '^TestClusterLeaderKilled$$' -v ./transport/natsjs/

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet $(PKGS)
	$(GO) vet -tags invariants $(PKGS)

lint:
	$(GO) tool staticcheck $(PKGS)

# bench prints the headline figures: per-message costs from the Go benchmarks,
# whole-process replays of a generated yardstick session (3M messages, 300
# instruments) and of a larger one (DAY_BENCH: 10M messages, 3,000
# instruments, raw ITCH) and one with 2M orders live at its peak
# (LIVE_BENCH) against the C floors, a short live load test (LOAD_BENCH) and the fan-out beside NATS; each tool
# writes its figures to bin/*.json, and tools/benchtable ends with one table
# of them all. A tool that fails still leaves the table, whose rows it
# measures say "not measured", and make bench fails. About 3 minutes on the
# 2-core development VM, plus about 2 minutes the first time (generating the
# sessions, cached in $TMPDIR/tickwire-bench).
DAY_BENCH ?= -messages 10000000 -instruments 3000 -seed 5 -formats raw
LIVE_BENCH ?= -messages 10000000 -instruments 3000 -seed 5 -live 2000000 -formats raw -runs 3
LOAD_BENCH ?= -messages 2000000 -rates 5e5,1e6,0 -payloads 1400 -poll busy -subscribers 8
bench: build
	rm -f bin/bench.txt bin/replay.json bin/replay-day.json bin/replay-live.json bin/live.json bin/fanout.json
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./codec/... ./feed/... ./book/... ./replay/ ./internal/pipeline/ ./transport/ ./transport/natsjs/ | tee bin/bench.txt
	-$(GO) run ./tools/replaybench -tickwire bin/tickwire -gobench bin/bench.txt -json bin/replay.json
	-$(GO) run ./tools/replaybench -tickwire bin/tickwire $(DAY_BENCH) -json bin/replay-day.json
	-$(GO) run ./tools/replaybench -tickwire bin/tickwire $(LIVE_BENCH) -json bin/replay-live.json
	-$(GO) run ./tools/loadtest -tickwire bin/tickwire $(LOAD_BENCH) -json bin/live.json
	-$(GO) run ./tools/fanoutbench -json bin/fanout.json
	$(GO) run ./tools/benchtable -gobench bin/bench.txt -replay bin/replay.json -replay-day bin/replay-day.json -replay-live bin/replay-live.json -live bin/live.json -fanout bin/fanout.json

# soak runs the daemon for SOAK of simulated session at 50,000 messages a
# second with subscribers attached, and reports the collector's cycles,
# memory and the stages (make test runs a 4 s form).
SOAK ?= 5m
soak:
	TICKWIRE_SOAK=$(SOAK) $(GO) test -count=1 -timeout 30m -run '^TestSoak$$' -v ./tools/tickwire/

# load measures the live handler against the simulator on loopback multicast.
load: build
	$(GO) run ./tools/loadtest -tickwire bin/tickwire

# fuzz runs every fuzz target for FUZZTIME each, then the randomized
# adversary test of the arbiter for ADVERSARY_ROUNDS sessions.
fuzz: FEED_SEED =
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done
	$(GO) test -tags invariants -run '^TestAdversary$$' -count=1 ./feed/ -args -adversary.rounds=$(ADVERSARY_ROUNDS)

# generate rebuilds the FlatBuffers Go code of the transport protocol from
# its schema; the committed code comes from flatc 2.0.8, and
# transport.TestGeneratedFresh fails when it is stale.
FLATC ?= $(shell command -v flatc 2>/dev/null)
generate:
	@test -n "$(FLATC)" || { echo "flatc not found: apt-get install -y flatbuffers-compiler (2.0.8 generated transport/tw), or make generate FLATC=/path/to/flatc"; exit 1; }
	@$(FLATC) --version | grep -q ' 2\.0\.8$$' || echo "warning: $$($(FLATC) --version) is not 2.0.8, which generated transport/tw: expect a large diff"
	rm -rf transport/tw
	$(FLATC) --go --go-namespace tw -o transport transport/tickwire.fbs
	gofmt -w transport/tw
	rm -rf examples/python/tickwire
	$(FLATC) --python -o examples/python transport/tickwire.fbs

# sample rewrites the bundled sample capture and its expected books.
sample: build
	bin/tickwire gen -messages 25000 -instruments 100 -seed 1 -format pcap -link vlan -noise -heartbeat 10s \
		-loss-a 0.01 -loss-b 0.01 -dup 0.005 -reorder 0.005 \
		-o pcaps/sample.pcap -books pcaps/sample.books.jsonl

clean:
	rm -rf bin
