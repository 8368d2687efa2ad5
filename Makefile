# xdpct: one build for the BPF object, its skeleton, the CLI and the tests.
CLANG    ?= clang
BPFTOOL  ?= bpftool
CC       ?= gcc
PKGS     := libbpf libxdp libmnl libmicrohttpd
BUILD    := build
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
# Vendored per architecture (BTF of a 6.18 kernel, which has every type the
# BPF side needs): the build host's kernel does not matter.
VMLINUX_DIR := vmlinux/$(ARCH)
VMLINUX_H   := $(VMLINUX_DIR)/vmlinux.h

# Distribution flags (dpkg-buildflags: hardening) reach every compile and
# link line; -Werror only with WERROR=1 (make test sets it: warnings fail CI).
CFLAGS   ?= -O2 -g
WERROR   ?= 0
W_ERROR  := $(if $(filter 1,$(WERROR)),-Werror)

# The version: a checkout's git describe (tags vX.Y.Z); past a tag,
# X.Y.Z+gitN.gHASH; before any tag, VERSION's next release ~gitN.gHASH (so
# that the release sorts after it); .dirty for uncommitted changes. Without
# .git (a tarball, `make deb`'s build copy) VERSION holds the whole string.
XDPCT_VERSION := $(shell \
	if [ -e .git ] && h=$$(git rev-parse --short=7 HEAD 2>/dev/null); then \
		if d=$$(git describe --tags --match 'v[0-9]*' --long 2>/dev/null); then \
			t=$${d%-*-g*}; n=$${d%-g*}; n=$${n\#\#*-}; t=$${t\#v}; \
			if [ "$$n" = 0 ]; then v=$$t; else v=$$t+git$$n.g$$h; fi; \
		else \
			v=$$(cat VERSION)~git$$(git rev-list --count HEAD).g$$h; \
		fi; \
		git diff-index --quiet HEAD -- 2>/dev/null || v=$$v.dirty; \
		echo $$v; \
	else cat VERSION 2>/dev/null || echo 0.1.0; fi)

USER_CFLAGS := $(CPPFLAGS) $(CFLAGS) -Wall -Wextra $(W_ERROR) -std=gnu11 -Iinclude -I$(BUILD) \
               -DXDPCT_VERSION='"$(XDPCT_VERSION)"' \
               $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
USER_LIBS := $(LDFLAGS) $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall $(W_ERROR) \
              -Wno-unused-function -I$(VMLINUX_DIR) -Iinclude -Ibpf

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_HDRS := $(wildcard bpf/*.h) include/xdpct.h
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS    := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

USER_SRCS := $(wildcard user/*.c)
# The CLI's code without its main(): for programs that call it (test_race,
# bench/evict).
USER_LIB_SRCS := $(filter-out user/main.c,$(USER_SRCS))
USER_HDRS := $(wildcard user/*.h) include/xdpct.h include/xdpct_ep.h include/xdpct_seen.h include/xdpct_stats.h
XDPCT    := $(BUILD)/xdpct

TEST_TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/%,$(wildcard tests/tools/*.c))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/%,$(wildcard tests/unit/test_*.c))
UNIT_LIB   := $(filter-out tests/unit/test_%.c tests/unit/%.bpf.c,$(wildcard tests/unit/*.c))

.PHONY: all deps test demo clean install uninstall check-deps docs deb pkg-deps version
.SECONDARY:
all: $(XDPCT) $(TEST_TOOLS) $(UNIT_TESTS)

# Every Debian package the build, tests and demo need.
DEB_PKGS := clang llvm libbpf-dev libxdp-dev bpftool libmnl-dev libelf-dev \
            zlib1g-dev pkg-config make gcc iproute2 curl ethtool procps tcpdump \
            coreutils util-linux socat nftables graphviz libmicrohttpd-dev \
            python3-prometheus-client etcd-server
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi; \
	case " $$missing " in *" etcd-server "*) \
		: the fleet test starts its own etcd: not the package service; \
		systemctl disable --now etcd >/dev/null 2>&1 || true;; esac

# apt runs only when a package is missing.
check-deps: deps

$(BUILD):
	mkdir -p $@

# No vendored header for this architecture: say how to make one.
$(VMLINUX_H):
	@echo "error: no $(VMLINUX_H): run 'make vmlinux' on a Linux 6.9+ $(ARCH) kernel with BTF" >&2; exit 1

# Regenerate the vendored header from the running kernel (6.9 or later:
# struct bpf_tcp_req_attrs must be in it).
.PHONY: vmlinux
vmlinux:
	@test -r /sys/kernel/btf/vmlinux || { echo "error: /sys/kernel/btf/vmlinux missing: this kernel has no BTF" >&2; exit 1; }
	@mkdir -p $(VMLINUX_DIR)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX_H).tmp
	@grep -q 'struct bpf_tcp_req_attrs {' $(VMLINUX_H).tmp || { rm -f $(VMLINUX_H).tmp; \
		echo "error: kernel $$(uname -r) lacks struct bpf_tcp_req_attrs: regenerate on Linux 6.9 or later" >&2; exit 1; }
	mv $(VMLINUX_H).tmp $(VMLINUX_H)

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(VMLINUX_H) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst .bpf.o,,$(notdir $<))_bpf > $@.tmp && mv $@.tmp $@

# the version is compiled in: a new commit rebuilds
$(BUILD)/version: FORCE | $(BUILD)
	@echo '$(XDPCT_VERSION)' | cmp -s - $@ || echo '$(XDPCT_VERSION)' > $@
.PHONY: FORCE

$(XDPCT): $(USER_SRCS) $(USER_HDRS) $(SKELS) $(BUILD)/version | $(BUILD)
	$(CC) $(USER_CFLAGS) $(USER_SRCS) -o $@ $(USER_LIBS)

# what a package ships: the CLI and the object for ip link / tc
bin: $(XDPCT) $(BUILD)/xdpct.bpf.o
.PHONY: bin

version:
	@echo $(XDPCT_VERSION)

$(BUILD)/%: tests/tools/%.c include/xdpct.h include/xdpct_seen.h include/xdpct_stats.h | $(BUILD)
	$(CC) $(USER_CFLAGS) $< -o $@ $(USER_LIBS)

$(BUILD)/test_%: tests/unit/test_%.c $(UNIT_LIB) $(wildcard tests/unit/*.h) include/xdpct_ep.h include/xdpct_seen.h include/xdpct_stats.h $(SKELS) | $(BUILD)
	$(CC) $(USER_CFLAGS) -Itests/unit $< $(UNIT_LIB) -o $@ $(USER_LIBS)

# test_race rotates the key with the product's config_commit() (user/config.c):
# it links the CLI's sources, main.c aside.
# test_fleet: the fleet's record and install (user/fleet.c, user/etcd.c)
$(BUILD)/test_fleet: tests/unit/test_fleet.c tests/unit/check.h $(USER_LIB_SRCS) $(USER_HDRS) $(SKELS) | $(BUILD)
	$(CC) $(USER_CFLAGS) -pthread -Itests/unit -Iuser $< $(USER_LIB_SRCS) -o $@ $(USER_LIBS)

# and holds an entry's lock with a test program (tests/unit/lock_holder.bpf.c)
$(BUILD)/unit/lock_holder.bpf.o: tests/unit/lock_holder.bpf.c include/xdpct.h $(VMLINUX_H) | $(BUILD)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(BUILD)/unit/lock_holder.skel.h: $(BUILD)/unit/lock_holder.bpf.o
	$(BPFTOOL) gen skeleton $< name lock_holder_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/test_race: tests/unit/test_race.c $(UNIT_LIB) $(wildcard tests/unit/*.h) $(USER_LIB_SRCS) $(USER_HDRS) $(SKELS) $(BUILD)/unit/lock_holder.skel.h | $(BUILD)
	$(CC) $(USER_CFLAGS) -pthread -Itests/unit -Iuser -I$(BUILD)/unit $< $(UNIT_LIB) $(USER_LIB_SRCS) -o $@ $(USER_LIBS)

test: check-deps pkg-deps
	@$(MAKE) --no-print-directory WERROR=1 all build/bench/flood
	@tests/run

demo: check-deps
	@$(MAKE) --no-print-directory all
	@tests/e2e/demo.sh

# The state diagram, from the transition table itself (commit the outputs).
docs: $(XDPCT)
	@command -v dot >/dev/null || $(MAKE) --no-print-directory deps
	$(XDPCT) states --dot > $(BUILD)/states.dot
	dot -Tsvg $(BUILD)/states.dot > docs/states.svg.tmp && mv docs/states.svg.tmp docs/states.svg
	dot -Tpng $(BUILD)/states.dot > docs/states.png.tmp && mv docs/states.png.tmp docs/states.png

# make install [DESTDIR=...] [PREFIX=/usr/local]; the unit's paths follow
# SBINDIR and SYSCONFDIR. An existing configuration is kept; uninstall
# removes it only if unchanged.
PREFIX         ?= /usr/local
SBINDIR        ?= $(PREFIX)/sbin
LIBDIR         ?= $(PREFIX)/lib
MANDIR         ?= $(PREFIX)/share/man
BASHCOMPDIR    ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR     ?= /etc
INSTALLED := $(SBINDIR)/xdpct $(LIBDIR)/xdpct/xdpct.bpf.o $(MANDIR)/man8/xdpct.8 \
             $(BASHCOMPDIR)/xdpct $(SYSTEMDUNITDIR)/xdpct@.service

install: bin
	install -D -m 0755 $(XDPCT) $(DESTDIR)$(SBINDIR)/xdpct
	install -D -m 0644 $(BUILD)/xdpct.bpf.o $(DESTDIR)$(LIBDIR)/xdpct/xdpct.bpf.o
	install -D -m 0644 docs/xdpct.8 $(DESTDIR)$(MANDIR)/man8/xdpct.8
	install -D -m 0644 contrib/xdpct.bash-completion $(DESTDIR)$(BASHCOMPDIR)/xdpct
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed -e 's|/usr/sbin/xdpct|$(SBINDIR)/xdpct|' -e 's|/etc/xdpct/|$(SYSCONFDIR)/xdpct/|' \
		contrib/xdpct@.service > $(DESTDIR)$(SYSTEMDUNITDIR)/xdpct@.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/xdpct@.service
	[ -e $(DESTDIR)$(SYSCONFDIR)/xdpct/default.conf ] || \
		install -D -m 0644 contrib/xdpct.conf $(DESTDIR)$(SYSCONFDIR)/xdpct/default.conf

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(LIBDIR)/xdpct
	! cmp -s contrib/xdpct.conf $(DESTDIR)$(SYSCONFDIR)/xdpct/default.conf || \
		rm -f $(DESTDIR)$(SYSCONFDIR)/xdpct/default.conf
	-rmdir $(DESTDIR)$(SYSCONFDIR)/xdpct

# ---- deb: the Debian package (debian/), in build/deb/ ----
# Built from a copy of the tree (tracked and new files, as they are now)
# whose VERSION and top debian/changelog entry carry the git version; lintian then
# checks the result. dpkg-buildpackage writes next to its source: build/deb.
# PKG_DEB_PKGS: also what tests/e2e/e2e_package.sh needs (systemd-analyze).
PKG_DEB_PKGS := debhelper dpkg-dev fakeroot lintian mmdebstrap systemd
DEB_DIR := $(BUILD)/deb
pkg-deps:
	@missing=$$(for p in $(PKG_DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

deb: check-deps pkg-deps
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/xdpct
	if [ -e .git ]; then git ls-files --cached --others --exclude-standard; \
	else find . -path ./$(BUILD) -prune -o -type f -print; fi | \
		while read -r f; do [ -e "$$f" ] && echo "$$f"; done | \
		tar -cf - -T - | tar -C $(DEB_DIR)/xdpct -xf -
	echo '$(XDPCT_VERSION)' > $(DEB_DIR)/xdpct/VERSION
	sed -i '1s/([^)]*)/($(XDPCT_VERSION))/' $(DEB_DIR)/xdpct/debian/changelog
	cd $(DEB_DIR)/xdpct && dpkg-buildpackage -b -us -uc
	lintian --fail-on error,warning $(DEB_DIR)/*.changes

clean:
	rm -rf $(BUILD)

# ---- bench (issue 5) ----
# `make bench [QUICK=1]`: micro, memory and macro benchmarks, results in
# bench/results/ and BENCHMARKS.md (QUICK=1: build/bench/quick/). Not part
# of `all`: nothing here is built or run by `make` or `make test`.
# build/bench/evict (eviction passes and the timer wheel) is built by
# bench-build and run by hand: its figures are in docs/conntrack.md.
BENCH_BUILD := $(BUILD)/bench
BENCH_DEB_PKGS := nftables gnuplot-nox linux-perf python3 procps util-linux iproute2
BENCH_BINS := $(BENCH_BUILD)/flood $(BENCH_BUILD)/micro $(BENCH_BUILD)/mem $(BENCH_BUILD)/evict \
              $(BENCH_BUILD)/jitlines
BENCH_SKELS := $(BENCH_BUILD)/gen.skel.h $(BENCH_BUILD)/floors.skel.h

.PHONY: bench bench-deps bench-build
bench: check-deps bench-deps
	@$(MAKE) --no-print-directory all bench-build
	@QUICK=$(QUICK) bench/run.sh

bench-deps:
	@missing=$$(for p in $(BENCH_DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

bench-build: $(BENCH_BINS) $(BUILD)/xdp_pass.bpf.o $(BENCH_BUILD)/floor_tc.bpf.o

$(BENCH_BUILD)/%.bpf.o: bench/%.bpf.c bench/bench.h $(BPF_HDRS) $(VMLINUX_H)
	@mkdir -p $(BENCH_BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH_BUILD)/%.skel.h: $(BENCH_BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst .bpf.o,,$(notdir $<))_bpf > $@.tmp && mv $@.tmp $@

BENCH_CFLAGS := $(USER_CFLAGS) -I$(BENCH_BUILD) -Ibench

$(BENCH_BUILD)/flood: bench/flood.c bench/bench.h $(BENCH_BUILD)/gen.skel.h
	$(CC) $(BENCH_CFLAGS) $< -o $@ $(USER_LIBS)

$(BENCH_BUILD)/micro: bench/micro.c $(UNIT_LIB) tests/unit/pktgen.h $(SKELS) $(BENCH_BUILD)/floors.skel.h
	$(CC) $(BENCH_CFLAGS) -Itests/unit $< tests/unit/pktgen.c -o $@ $(USER_LIBS)

$(BENCH_BUILD)/mem: bench/mem.c $(SKELS)
	$(CC) $(BENCH_CFLAGS) $< -o $@ $(USER_LIBS)

# Line info of a loaded program's JIT code, for per-line profiles
# (bench/profile_lines.py).
$(BENCH_BUILD)/jitlines: bench/jitlines.c
	@mkdir -p $(BENCH_BUILD)
	$(CC) $(BENCH_CFLAGS) $< -o $@ $(USER_LIBS)

# Times the CLI's own passes and wheel (user/evict.c): linked with its code.
$(BENCH_BUILD)/evict: bench/evict.c $(USER_LIB_SRCS) $(USER_HDRS) $(SKELS)
	@mkdir -p $(BENCH_BUILD)
	$(CC) $(BENCH_CFLAGS) -Iuser $< $(USER_LIB_SRCS) -o $@ $(USER_LIBS)

# ---- mutate: the tests against deliberate defects (tests/mutate/) ----
# make mutate [MUTANTS=id,id]   each mutant of tests/mutate/mutants.ini built
#                               in a scratch copy and run against the tests
#                               it names; table and kill rate to docs/testing.md
.PHONY: mutate
mutate: check-deps
	@$(MAKE) --no-print-directory all
	tests/mutate/mutate.py $(if $(MUTANTS),--only $(MUTANTS))

# ---- soak and sanitize: long or slow checks, not part of `make test` ----
# make soak      the XDP property test with SOAK_N frames (PROP_SEED=S replays),
#                then the random-cookie ACK floods with SOAK_ACK_N timestamped
#                ACKs (live frames) and SOAK_ACK_NOTS_N bare ones
# make sanitize  the CLI built with ASan+UBSan runs tests/e2e/e2e_cli.sh and
#                more; valgrind runs stats/conns (tests/sanitize.sh)
.PHONY: soak sanitize
SOAK_N ?= 1000000
SAN_PKGS := valgrind libasan8 libubsan1 binutils
SAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined

SOAK_ACK_N ?= 10000000
SOAK_ACK_NOTS_N ?= 10000000

soak: check-deps
	@$(MAKE) --no-print-directory $(BUILD)/test_prop
	PROP_N=$(SOAK_N) $(BUILD)/test_prop
	@$(MAKE) --no-print-directory all $(BUILD)/bench/flood $(BUILD)/xdp_pass.bpf.o
	ACKFLOOD_N=$(SOAK_ACK_N) ACKFLOOD_NOTS_N=$(SOAK_ACK_NOTS_N) tests/e2e/e2e_ackflood.sh

# valgrind's missing model of bpf(BPF_MAP_LOOKUP_BATCH), preloaded (tests/vgbpf.c)
$(BUILD)/vgbpf.so: tests/vgbpf.c | $(BUILD)
	$(CC) -O2 -g -Wall -Wextra -Werror -shared -fPIC $< -o $@ -ldl

$(BUILD)/asan/xdpct: $(USER_SRCS) $(USER_HDRS) $(SKELS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -O2,$(USER_CFLAGS)) $(SAN_CFLAGS) $(USER_SRCS) -o $@ $(USER_LIBS)

sanitize: check-deps
	@missing=$$(for p in $(SAN_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi
	@$(MAKE) --no-print-directory $(XDPCT) $(BUILD)/tcppeer $(BUILD)/asan/xdpct \
		$(BUILD)/xdp_pass.bpf.o $(BUILD)/vgbpf.so
	@tests/sanitize.sh
