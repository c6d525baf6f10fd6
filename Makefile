# floodgate — build the BPF object, its skeleton, the agent, the CLI and the tests.
# `make` is quiet; `make V=1` shows the commands.

.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BUILD   ?= build
CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
PREFIX  ?= /usr/local

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
COMMIT  := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

# Installs missing Debian packages once; the stamp is redone when deps.sh changes.
DEPS_STAMP := $(BUILD)/.deps-$(shell cksum scripts/deps.sh | cut -d' ' -f1)

WARN    := -Wall -Wextra -Werror
CFLAGS  ?= -O2 -g
# CFLAGS is the user's to override (make test-asan does); these always apply.
# lib/ and cli/ build without -Iagent: they cannot include an agent header.
BASE_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -Ilib -I$(BUILD) \
	   -DFG_VERSION='"$(VERSION)"' -DFG_COMMIT='"$(COMMIT)"'
ALL_CFLAGS := $(BASE_CFLAGS) -Iagent
LDLIBS  := -lbpf -lelf -lz -lyaml -luv -lcap -lmicrohttpd -lhiredis -lpthread

BPF_ARCH := x86
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) -D__BPF__ \
	      $(WARN) -Wno-unused-function -Iinclude -Ivmlinux -Ibpf

BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
BPF_SKELS  := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
BPF_HDRS   := $(wildcard bpf/*.h) $(wildcard include/floodgate/*.h)

# lib/: the modules shared by the agent, floodctl, the tests and the bench
# (addresses, durations, string buffers, the clock, the XDP maps).
LIB_SHARED_SRCS := $(wildcard lib/*.c)
LIB_SHARED_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SHARED_SRCS))
LIB_SHARED_HDRS := $(wildcard lib/*.h)

AGENT_SRCS := $(wildcard agent/*.c)
AGENT_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(AGENT_SRCS))
# lib/ and every agent module but main: what the unit tests and tools link against.
LIB_OBJS   := $(LIB_SHARED_OBJS) $(filter-out $(BUILD)/agent/main.o,$(AGENT_OBJS))
AGENT_HDRS := $(wildcard agent/*.h) $(LIB_SHARED_HDRS)

CLI_SRCS   := $(wildcard cli/*.c)

UNIT_SRCS  := $(wildcard tests/unit/check_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
BPFT_SRCS  := $(wildcard tests/bpf/*.c)
NET_TOOLS  := $(BUILD)/tests/fgnet

FLOODGATED := $(BUILD)/floodgated
FLOODCTL   := $(BUILD)/floodctl
BPFTEST    := $(BUILD)/tests/bpf_table
FUZZXDP    := $(BUILD)/tests/fuzz_xdp
BENCHXDP   := $(BUILD)/bench/bench_xdp
LIVEGEN    := $(BUILD)/bench/livegen
# Everything make bench runs besides the agent and fgnet.
BENCH_TOOLS := $(BENCHXDP) $(BUILD)/bench/fgwatch $(BUILD)/bench/drop.bpf.o $(BUILD)/bench/noop.bpf.o $(LIVEGEN)

CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

IFACE ?=
CONFIG ?= packaging/floodgate.yaml

.PHONY: fuzz fuzz-xdp redteam test-kernels
.PHONY: all deps test test-unit test-bpf test-netns test-asan run demo bench bench-smoke bench-xdp \
	bench-socket bench-redis bench-topology bench-flood bench-react bench-metrics bench-node \
	vmlinux fmt lint clean install uninstall

all: $(DEPS_STAMP) $(FLOODGATED) $(FLOODCTL) $(BUILD)/floodgate.bpf.o

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh
	$(Q)mkdir -p $(BUILD) && ./scripts/deps.sh && rm -f $(BUILD)/.deps-* && touch $@

# --- BPF: .bpf.c -> .bpf.o -> .skel.h -------------------------------------
$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(DEPS_STAMP)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# --- user space -----------------------------------------------------------
$(BUILD)/%.o: %.c $(AGENT_HDRS) $(BPF_SKELS) $(wildcard include/floodgate/*.h) | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# The status page is built into the agent (.incbin).
$(BUILD)/agent/status.o: agent/status.html

$(FLOODGATED): $(AGENT_OBJS) $(LIB_SHARED_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# floodctl links lib/ (the -p mode's map access) and none of agent/: it stays
# small and links while the agent changes.
$(patsubst %.c,$(BUILD)/%.o,$(CLI_SRCS)): $(wildcard cli/*.h)
$(LIB_SHARED_OBJS) $(patsubst %.c,$(BUILD)/%.o,$(CLI_SRCS)): ALL_CFLAGS := $(BASE_CFLAGS)
$(FLOODCTL): $(patsubst %.c,$(BUILD)/%.o,$(CLI_SRCS)) $(LIB_SHARED_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -lbpf -lelf -lz -lhiredis -o $@

$(BUILD)/tests/check_%: $(BUILD)/tests/unit/check_%.o $(LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $(TEST_LDFLAGS) $^ $(LDLIBS) $(CHECK_LIBS) -o $@
# floodctl's modules (all but its main) and its connection to the agent.
# counts pubsub.c's pattern matches (check_pubsub.c's __wrap_glob_match)
# (not LDFLAGS: make test-asan sets that on the command line, which wins)
$(BUILD)/tests/check_pubsub: TEST_LDFLAGS := -Wl,--wrap=glob_match
$(BUILD)/tests/check_cli: $(filter-out $(BUILD)/cli/floodctl.o,$(patsubst %.c,$(BUILD)/%.o,$(CLI_SRCS)))
$(BUILD)/tests/unit/check_cli.o: ALL_CFLAGS += -Icli
$(BUILD)/tests/unit/check_cli.o: $(wildcard cli/*.h)
$(BUILD)/tests/unit/check_policy.o: tests/unit/policy_sync.h
$(BUILD)/tests/unit/check_redisstore.o $(BUILD)/tests/unit/check_fleet.o: tests/unit/redisd.h
$(BUILD)/tests/unit/check_banguard.o $(BUILD)/tests/unit/check_vouch.o \
	$(BUILD)/tests/unit/check_banmaps.o \
	$(BUILD)/tests/unit/check_hostpeers.o: tests/unit/banmaps.h

$(BPFTEST): $(patsubst %.c,$(BUILD)/%.o,$(BPFT_SRCS)) $(LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -lpthread -o $@

# The packet fuzzer shares the object loading of the table tests.
$(FUZZXDP): $(BUILD)/tests/fuzz/fuzz_xdp.o $(BUILD)/tests/bpf/testobj.o $(LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
$(BUILD)/tests/fuzz/fuzz_xdp.o: ALL_CFLAGS += -Itests/bpf

$(BUILD)/tests/fgnet: $(BUILD)/tests/netns/fgnet.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@

$(BENCHXDP): $(BUILD)/bench/bench_xdp.o $(BUILD)/tests/bpf/pktbuild.o $(LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/bench/fgwatch: $(BUILD)/bench/fgwatch.o $(LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# livegen: the live-frames flood generator and the flood yardsticks' loader.
$(LIVEGEN): $(BUILD)/bench/livegen.o $(BUILD)/lib/cidr.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -lbpf -lelf -lz -lpthread -o $@
$(BUILD)/bench/livegen.o: $(BUILD)/bench/livegen.skel.h $(BUILD)/bench/victim.skel.h
$(BUILD)/bench/livegen.skel.h: $(BUILD)/bench/livegen.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name livegen > $@
$(BUILD)/bench/victim.skel.h: $(BUILD)/bench/victim.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name victim > $@

$(BUILD)/bench/bench_xdp.o: ALL_CFLAGS += -Itests/bpf
$(BUILD)/bench/bench_xdp.o: $(BUILD)/bench/noop.skel.h $(BUILD)/bench/clock_bench.skel.h \
	$(BUILD)/bench/victim.skel.h tests/bpf/pktbuild.h
$(BUILD)/bench/%.bpf.o: bench/%.bpf.c | $(DEPS_STAMP)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(BUILD)/bench/noop.skel.h: $(BUILD)/bench/noop.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name noop > $@
$(BUILD)/bench/clock_bench.skel.h: $(BUILD)/bench/clock.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name clock_bench > $@

# --- tests ------------------------------------------------------------------
# The Node client libraries the socket tests use (npm registry, pinned by the lock).
NODE_DEPS := tests/node/node_modules/.package-lock.json
$(NODE_DEPS): tests/node/package.json tests/node/package-lock.json | $(DEPS_STAMP)
	$(call msg,NPM,tests/node)
	$(Q)cd tests/node && npm ci --no-audit --no-fund --silent
# The floodgate npm package's dev dependencies (express, socket.io, NestJS, typescript), installed
# before the test run so tests/netns/test_99_node_pkg.sh spends its time on the tests.
NODE_PKG_DEPS := clients/node/node_modules/.package-lock.json
$(NODE_PKG_DEPS): clients/node/package.json clients/node/package-lock.json | $(DEPS_STAMP)
	$(call msg,NPM,clients/node)
	$(Q)cd clients/node && npm ci --no-audit --no-fund --silent
NODE_DEPS += $(NODE_PKG_DEPS)

# Each stage prints its own summary; tests/run.sh adds them up and prints
# the closing "N passed, N failed" line.
test: all $(UNIT_BINS) $(BPFTEST) $(FUZZXDP) $(NET_TOOLS) $(NODE_DEPS) $(BENCH_TOOLS)
	$(Q)BUILD=$(BUILD) ./tests/run.sh

test-unit: $(UNIT_BINS)
	$(Q)BUILD=$(BUILD) STAGES=unit ./tests/run.sh

test-bpf: $(BPFTEST) $(FUZZXDP)
	$(Q)BUILD=$(BUILD) STAGES=bpf ./tests/run.sh

test-netns: all $(NET_TOOLS) $(NODE_DEPS) $(LIVEGEN) $(BUILD)/bench/noop.bpf.o
	$(Q)BUILD=$(BUILD) STAGES=netns ./tests/run.sh

# User-space code under AddressSanitizer and UBSan.
test-asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
		LDFLAGS="-fsanitize=address,undefined" test-unit

# libFuzzer + ASan/UBSan on the parsers that take hostile input: RESP requests
# and config files. FUZZ_SECONDS per target; seeds from the tests' own inputs.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -Ilib -Iagent \
	       -I$(BUILD)
$(BUILD)/fuzz/fuzz_resp: tests/fuzz/fuzz_resp.c agent/resp.c lib/sbuf.c agent/resp.h | $(DEPS_STAMP)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@
# The policy kinds' rows carry their config keys (agent/limit_*.c).
$(BUILD)/fuzz/fuzz_config: tests/fuzz/fuzz_config.c $(wildcard agent/config*.c) lib/cidr.c lib/duration.c lib/editdist.c agent/log.c \
			   agent/policy_kind.c $(wildcard agent/limit_*.c) agent/tzone.c $(AGENT_HDRS) | $(DEPS_STAMP)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -lyaml -lbpf -o $@

$(BUILD)/fuzz/fuzz_glob: tests/fuzz/fuzz_glob.c agent/glob.c agent/glob.h | $(DEPS_STAMP)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@

$(BUILD)/fuzz/fuzz_tzone: tests/fuzz/fuzz_tzone.c agent/tzone.c agent/tzone.h | $(DEPS_STAMP)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@

fuzz: $(BUILD)/fuzz/fuzz_resp $(BUILD)/fuzz/fuzz_config $(BUILD)/fuzz/fuzz_glob $(BUILD)/fuzz/fuzz_tzone
	$(Q)mkdir -p $(BUILD)/fuzz/corpus-resp $(BUILD)/fuzz/corpus-config $(BUILD)/fuzz/corpus-glob \
		$(BUILD)/fuzz/corpus-tzone
	$(Q)printf '*2\r\n$$4\r\nECHO\r\n$$2\r\nhi\r\n' >$(BUILD)/fuzz/corpus-resp/seed-multibulk
	$(Q)printf 'PING "a b"\r\n' >$(BUILD)/fuzz/corpus-resp/seed-inline
	$(Q)cp packaging/floodgate.yaml tests/unit/configs/*.yaml $(BUILD)/fuzz/corpus-config/
	$(BUILD)/fuzz/fuzz_resp -max_total_time=$(FUZZ_SECONDS) -max_len=4096 $(BUILD)/fuzz/corpus-resp
	$(BUILD)/fuzz/fuzz_config -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
		$(BUILD)/fuzz/corpus-config
	$(BUILD)/fuzz/fuzz_glob -max_total_time=$(FUZZ_SECONDS) -max_len=256 $(BUILD)/fuzz/corpus-glob
	$(Q)for z in Europe/Berlin America/New_York Asia/Kolkata Australia/Lord_Howe UTC; do \
		cp $${TZDIR:-/usr/share/zoneinfo}/$$z $(BUILD)/fuzz/corpus-tzone/$$(echo $$z | tr / _); done
	$(BUILD)/fuzz/fuzz_tzone -max_total_time=$(FUZZ_SECONDS) -max_len=8192 $(BUILD)/fuzz/corpus-tzone

# Differential packet fuzzing of the XDP program (tests/fuzz/fuzz_xdp.c): FUZZ_XDP_FRAMES
# structured and mutated frames through BPF_PROG_TEST_RUN; SEED=n repeats a run. make test
# runs a 200,000-frame smoke of it in the bpf stage.
FUZZ_XDP_FRAMES ?= 20000000
fuzz-xdp: $(FUZZXDP)
	$(FUZZXDP) --frames $(FUZZ_XDP_FRAMES) $(if $(SEED),--seed $(SEED))

# Hostile local users and peers against a running agent (socket, metrics, config,
# Redis faults, packets): one HELD/BROKE line per attack with its figures. Bounded,
# a few minutes; not part of make test.
redteam: all $(NET_TOOLS) $(NODE_DEPS)
	$(Q)BUILD=$(BUILD) ./tests/redteam/run.sh

# Boot each kernel of tests/kernels/kernels.list (Debian packages, fetched with apt)
# in qemu: verifier load of every program, the BPF table, an agent smoke test.
# KERNELS="debian12-6.1" for a subset. Root; 1-2 min per kernel without KVM.
test-kernels: all $(BPFTEST) $(NET_TOOLS)
	$(Q)BUILD=$(BUILD) KERNELS="$(KERNELS)" ./tests/kernels/run.sh

# --- running ----------------------------------------------------------------
run: all
	@if [ -z "$(IFACE)" ]; then echo "usage: make run IFACE=<interface>" >&2; exit 2; fi
	./$(FLOODGATED) -c $(CONFIG) -i $(IFACE)

demo: all $(NET_TOOLS)
	$(Q)BUILD=$(BUILD) ./scripts/demo.sh

# make bench: every section in one run (root, a few minutes on 2 CPUs); writes
# docs/performance.md (its own sections only), bench/results/*.csv and plots.
# make bench-smoke: the same with tiny counts, into a scratch directory (make
# test runs it). The other targets run one section and print it.
bench: all $(BENCH_TOOLS) $(NET_TOOLS) $(NODE_PKG_DEPS)
	$(Q)BUILD=$(BUILD) ./bench/run.sh

bench-smoke: all $(BENCH_TOOLS) $(NET_TOOLS) $(NODE_PKG_DEPS)
	$(Q)BUILD=$(BUILD) ./bench/run.sh --smoke

bench-socket: all
	$(Q)BUILD=$(BUILD) ./bench/socket.sh --out $(BUILD)/bench/results

bench-redis: all
	$(Q)BUILD=$(BUILD) ./bench/redis.sh --out $(BUILD)/bench/results

bench-topology: all
	$(Q)BUILD=$(BUILD) ./bench/topology.sh --out $(BUILD)/bench/results

bench-metrics: all
	$(Q)BUILD=$(BUILD) ./bench/metrics.sh --out $(BUILD)/bench/results

bench-xdp: $(BENCHXDP)
	$(Q)./$(BENCHXDP) paths scale

bench-flood: all $(BENCH_TOOLS) $(NET_TOOLS)
	$(Q)BUILD=$(BUILD) ./bench/flood.sh --out $(BUILD)/bench/results

bench-react: all $(BENCH_TOOLS) $(NET_TOOLS)
	$(Q)BUILD=$(BUILD) ./bench/react.sh --out $(BUILD)/bench/results

bench-node: all $(NET_TOOLS) $(NODE_PKG_DEPS)
	$(Q)BUILD=$(BUILD) ./bench/node.sh --out $(BUILD)/bench/results

# Regenerate vmlinux/vmlinux.h from the running kernel's BTF.
vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h
	@echo "vmlinux.h regenerated from $$(uname -r); update vmlinux/README.md"

fmt:
	clang-format -i $(LIB_SHARED_SRCS) $(AGENT_SRCS) $(AGENT_HDRS) $(CLI_SRCS) $(BPF_SRCS) $(wildcard bpf/*.h) \
		$(UNIT_SRCS) $(BPFT_SRCS) include/floodgate/*.h

lint: $(BPF_SKELS)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 \
		--suppress=missingIncludeSystem --inline-suppr -Iinclude -Ilib -Iagent -I$(BUILD) \
		--include=scripts/cppcheck-macros.h lib agent cli
	@python3 scripts/incgraph.py # agent/ include graph: no cycles
	@scripts/layoutcheck.sh # the README's layout table names every module

# --- installing -------------------------------------------------------------------
# Binaries, the BPF object, docs and the unit go under PREFIX; the config goes to
# SYSCONFDIR/floodgate (floodgated's default -c path is /etc/floodgate/floodgate.yaml).
# The unit goes where systemd looks for that PREFIX: /usr/local/lib/systemd/system for
# the default, /usr/lib/systemd/system for PREFIX=/usr. DESTDIR stages all of it.
BINDIR         ?= $(PREFIX)/bin
SBINDIR        ?= $(PREFIX)/sbin
FGLIBDIR       ?= $(PREFIX)/lib/floodgate
DOCDIR         ?= $(PREFIX)/share/doc/floodgate
DATADIR        ?= $(PREFIX)/share/floodgate
SYSCONFDIR     ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR         ?= $(PREFIX)/share/man
DOCS           := README.md $(wildcard docs/*.md)
MANPAGES       := $(wildcard docs/man/*.[58])
CONFIG_DEST    := $(DESTDIR)$(SYSCONFDIR)/floodgate/floodgate.yaml

# The config is 0640: store.redis.password may be in it. An existing config is the
# operator's: it stays, and the new example goes next to it.
install: all
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -D -m 0755 $(FLOODGATED) "$(DESTDIR)$(SBINDIR)/floodgated"
	$(Q)install -D -m 0755 $(FLOODCTL) "$(DESTDIR)$(BINDIR)/floodctl"
	$(Q)install -D -m 0644 $(BUILD)/floodgate.bpf.o "$(DESTDIR)$(FGLIBDIR)/floodgate.bpf.o"
	$(Q)install -d -m 0755 "$(DESTDIR)$(DOCDIR)" "$(DESTDIR)$(SYSTEMDUNITDIR)" \
		"$(DESTDIR)$(SYSCONFDIR)/floodgate"
	$(Q)install -m 0644 $(DOCS) "$(DESTDIR)$(DOCDIR)/"
	$(Q)install -D -m 0644 packaging/prometheus/floodgate.rules.yml \
		"$(DESTDIR)$(DATADIR)/prometheus/floodgate.rules.yml"
	$(Q)install -D -m 0644 packaging/grafana/floodgate.json \
		"$(DESTDIR)$(DATADIR)/grafana/floodgate.json"
	$(Q)for m in $(MANPAGES); do \
		install -D -m 0644 "$$m" "$(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}" || exit 1; \
	done
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		-e 's|@DOCDIR@|$(DOCDIR)|g' packaging/floodgated.service.in \
		>"$(DESTDIR)$(SYSTEMDUNITDIR)/floodgated.service"
	$(Q)chmod 0644 "$(DESTDIR)$(SYSTEMDUNITDIR)/floodgated.service"
	$(Q)if [ -e "$(CONFIG_DEST)" ]; then \
		install -m 0640 packaging/floodgate.yaml "$(CONFIG_DEST).example"; \
		echo "  kept $(CONFIG_DEST); the new example is $(CONFIG_DEST).example"; \
	else \
		install -m 0640 packaging/floodgate.yaml "$(CONFIG_DEST)"; \
	fi
	$(Q)[ -n "$(DESTDIR)" ] || echo "  next: list interfaces: in $(CONFIG_DEST), then" \
		"systemctl daemon-reload && systemctl enable --now floodgated"

# Stop the service first (systemctl disable --now floodgated). The config stays unless
# it is the unmodified example.
uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f "$(DESTDIR)$(SBINDIR)/floodgated" "$(DESTDIR)$(BINDIR)/floodctl" \
		"$(DESTDIR)$(FGLIBDIR)/floodgate.bpf.o" \
		"$(DESTDIR)$(SYSTEMDUNITDIR)/floodgated.service" "$(CONFIG_DEST).example" \
		"$(DESTDIR)$(DATADIR)/prometheus/floodgate.rules.yml" \
		"$(DESTDIR)$(DATADIR)/grafana/floodgate.json" \
		$(addprefix "$(DESTDIR)$(DOCDIR)/,$(addsuffix ",$(notdir $(DOCS)))) \
		$(foreach m,$(MANPAGES),"$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m))")
	$(Q)rmdir "$(DESTDIR)$(FGLIBDIR)" "$(DESTDIR)$(DOCDIR)" "$(DESTDIR)$(DATADIR)/prometheus" \
		"$(DESTDIR)$(DATADIR)/grafana" "$(DESTDIR)$(DATADIR)" 2>/dev/null || true
	$(Q)if cmp -s packaging/floodgate.yaml "$(CONFIG_DEST)"; then \
		rm -f "$(CONFIG_DEST)"; rmdir "$(DESTDIR)$(SYSCONFDIR)/floodgate" 2>/dev/null || true; \
	elif [ -e "$(CONFIG_DEST)" ]; then \
		echo "  kept $(CONFIG_DEST) (changed from the example)"; \
	fi

clean:
	rm -rf $(BUILD) build-asan
