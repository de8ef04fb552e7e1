# cachetap — one GNU Makefile (STYLE.md "Build").
#
#   make               build build/cachetap, the library, the tests and the tools
#   make deps          install the Debian packages we need, when they are missing
#   make test          deps, then every test: plain build, clang -Werror build, ASan+UBSan build
#   make check         the tests of one build only (BUILD=..., SANITIZE=...)
#   make demo          replay the shipped testbed capture and print its propagation report
#   make live-demo     (root) the same from live traffic: testbed, cachetap drive, report
#   make bench         benchmarks, printed as ratios measured side by side in one run
#   make SANITIZE=address,undefined   a sanitizer build (in build/san)
#   make valgrind      unit and golden tests under valgrind's memcheck (build/vg; see its block)

SANITIZE ?=
ifeq ($(SANITIZE),)
BUILD ?= build
else
BUILD ?= build/san
endif

CC ?= cc
PKGS := libpcap sqlite3 libxxhash hiredis jansson libcurl libmicrohttpd libcap-ng
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Iinclude -MMD -MP $(WARN) $(PKG_CFLAGS)
ifneq ($(WERROR),)
CFLAGS += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif
LDLIBS += $(PKG_LIBS) -lhttp_parser -lpthread -lm

LIB_SRC := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
LIB := $(BUILD)/libcachetap.a
BIN := $(BUILD)/cachetap
TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC := $(wildcard tools/*.c)
TOOL_BIN := $(TOOL_SRC:tools/%.c=$(BUILD)/tools/%)
SCRIPT_TESTS := $(sort $(wildcard tests/golden/*.t tests/integration/*.t))

.PHONY: all deps test check unit warnings bench demo live-demo clean
.DELETE_ON_ERROR:

all: $(BIN) $(TEST_BIN) $(TOOL_BIN)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BIN): $(BUILD)/obj/main.o $(LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(BUILD)/tools/%: tools/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

# Debian packages: build, test and bench needs. `make deps` installs only what is missing.
DEB_PKGS := gcc make pkg-config libpcap-dev libsqlite3-dev libxxhash-dev libhiredis-dev libjansson-dev \
	sqlite3 clang libclang-rt-14-dev tshark tcpdump redis-server redis-tools memcached \
	libmemcached-tools perl libhttp-parser-dev libcurl4-openssl-dev libmicrohttpd-dev \
	libcap-ng-dev valgrind chromium iproute2 curl
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing:" $$missing; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "make deps: all Debian packages present"; fi

# The tests of one build: unit tests (TAP), then golden and integration scripts.
check: all
	CT_TOP=$(CURDIR) CT_BUILD=$(abspath $(BUILD)) CT_BIN=$(abspath $(BIN)) CT_SANITIZE=$(SANITIZE) \
		prove --exec '' $(TEST_BIN) $(SCRIPT_TESTS)

warnings:
	$(MAKE) --no-print-directory CC=clang WERROR=1 BUILD=build/clang all
	$(MAKE) --no-print-directory CC=gcc WERROR=1 BUILD=build/gcc all

test: deps
	$(MAKE) --no-print-directory warnings
	$(MAKE) --no-print-directory check
	$(MAKE) --no-print-directory SANITIZE=address,undefined check

bench: deps all
	tools/bench.sh $(abspath $(BUILD))

# The shipped example (tools/demo.sh): replay the testbed capture in captures/demo/ (a slow
# replica, a memcached node that misses invalidations, stale reads), print the propagation
# report and write $(BUILD)/report.html. live-demo (root) does the same from live traffic:
# the testbed with the same faults, driven by tools/scenarios/faults.scn with cachetap drive.
demo: deps
	@$(MAKE) --no-print-directory $(BIN)
	tools/demo.sh replay $(BUILD)

live-demo: deps
	@$(MAKE) --no-print-directory $(BIN) $(TOOL_BIN)
	tools/demo.sh live $(BUILD)

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/main.d $(TEST_BIN:=.d) $(TOOL_BIN:=.d)

# ---- fuzzing (tests/fuzz/, issue 7) ---------------------------------------------------------
# Every tests/fuzz/fuzz_NAME.c is a target (tests/fuzz/fuzz.h says how to add one).
#   make all / check   also build each target with the normal CC and flags, linked with
#                      tests/fuzz/onefile.c, as $(BUILD)/fuzz-onefile/NAME: fuzz_replay.t runs
#                      them over tests/fuzz/corpus/NAME/ and tests/fuzz/regress/NAME/
#   make fuzz          builds the libFuzzer binaries with clang into build/fuzz/ and runs each
#                      for FUZZ_SECONDS (default 60), one after the other; crashes are kept in
#                      tests/fuzz/regress/NAME/ (tests/fuzz/run.sh)
#   make fuzz-corpus   rebuilds the seeds (tests/fuzz/mkcorpus.c: public captures, fixtures)
#                      and merges what adds coverage into tests/fuzz/corpus/NAME/ (-merge=1)
FUZZ_NAMES := $(sort $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_ONEFILE := $(FUZZ_NAMES:%=$(BUILD)/fuzz-onefile/%)
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_DIR := build/fuzz
FUZZ_CFLAGS = -O1 -g -std=c11 -D_GNU_SOURCE -Iinclude -Itests/fuzz -MMD -MP $(WARN) $(PKG_CFLAGS) \
	-fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_LIB_OBJ := $(LIB_SRC:src/%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_BIN := $(FUZZ_NAMES:%=$(FUZZ_DIR)/%)

.PHONY: fuzz fuzz-build fuzz-corpus
all: $(FUZZ_ONEFILE)

$(BUILD)/fuzz-onefile/onefile.o: tests/fuzz/onefile.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/fuzz -c $< -o $@

$(FUZZ_ONEFILE): $(BUILD)/fuzz-onefile/%: tests/fuzz/%.c $(BUILD)/fuzz-onefile/onefile.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/fuzz $(LDFLAGS) $< $(BUILD)/fuzz-onefile/onefile.o $(LIB) $(LDLIBS) -o $@

$(BUILD)/fuzz-onefile/mkcorpus: tests/fuzz/mkcorpus.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/fuzz $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(FUZZ_DIR)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/libcachetap.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BIN): $(FUZZ_DIR)/%: tests/fuzz/%.c $(FUZZ_DIR)/libcachetap.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_DIR)/libcachetap.a $(LDLIBS) -o $@

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-corpus: fuzz-build $(BUILD)/fuzz-onefile/mkcorpus $(BUILD)/tools/gencap
	rm -rf $(FUZZ_DIR)/seeds $(FUZZ_DIR)/gencap
	mkdir -p $(FUZZ_DIR)/gencap && $(BUILD)/tools/gencap $(FUZZ_DIR)/gencap >/dev/null
	$(BUILD)/fuzz-onefile/mkcorpus $(FUZZ_DIR)/seeds captures/public captures/hostile $(FUZZ_DIR)/gencap
	for t in $(FUZZ_NAMES); do mkdir -p tests/fuzz/corpus/$$t && \
		$(FUZZ_DIR)/$$t -merge=1 -artifact_prefix=$(FUZZ_DIR)/merge-$$t- \
			tests/fuzz/corpus/$$t $(FUZZ_DIR)/seeds/$$t || exit 1; done

-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_BIN:=.d) $(FUZZ_ONEFILE:=.d) $(BUILD)/fuzz-onefile/onefile.d
# ---- end of fuzzing ---------------------------------------------------------------------------

# ---- valgrind (issue 7) ---------------------------------------------------------------------
#   make valgrind      every unit test, then every golden test, under valgrind's memcheck, on a
#                      non-sanitized -O1 -g build in build/vg. The script tests reach cachetap
#                      through tests/valgrind.sh (CT_BIN); the tools they take from CT_BUILD
#                      (gencap, ctdump, benchrun, the fuzz onefile drivers) run natively. Each
#                      process logs to build/vg/vglog/PID.log, and the target fails unless every
#                      log is empty: 0 errors and no definite leak. Nothing is left out: the
#                      slowest golden test under memcheck, public_conn_bytes.t, takes about 2
#                      minutes, and hostile.t's captures ran in at most 6 s of their 10 s limit.
#                      The whole target takes about 15 minutes on 2 cores.
VG_BUILD := build/vg
VG_LOG := $(abspath $(VG_BUILD))/vglog
VG_OPTS := -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite --log-file=$(VG_LOG)/%p.log
VG_UNIT := $(TEST_SRC:tests/unit/%.c=$(VG_BUILD)/tests/%)
VG_GOLDEN := $(sort $(wildcard tests/golden/*.t))

.PHONY: valgrind
valgrind:
	CFLAGS='-O1 -g' $(MAKE) --no-print-directory BUILD=$(VG_BUILD) SANITIZE= all
	rm -rf $(VG_LOG) && mkdir -p $(VG_LOG)
	CT_TOP=$(CURDIR) CT_BUILD=$(abspath $(VG_BUILD)) prove -j2 --exec 'valgrind $(VG_OPTS)' $(VG_UNIT)
	CT_TOP=$(CURDIR) CT_BUILD=$(abspath $(VG_BUILD)) CT_BIN=$(CURDIR)/tests/valgrind.sh \
		CT_VG_BIN=$(abspath $(VG_BUILD))/cachetap CT_VG_OPTS='$(VG_OPTS)' \
		prove --exec bash $(VG_GOLDEN)
	@n=$$(ls $(VG_LOG) | wc -l); bad=$$(find $(VG_LOG) -type f -size +0c); \
	if [ -n "$$bad" ]; then cat $$bad; \
		echo "make valgrind: $$(echo $$bad | wc -w) of $$n processes had memcheck errors or definite leaks"; exit 1; \
	fi; echo "make valgrind: $$n processes under memcheck, 0 errors, no definite leaks"
# ---- end valgrind ---------------------------------------------------------------------------
