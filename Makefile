# cachetap — one GNU Makefile (STYLE.md "Build").
#
#   make               build build/cachetap, the library, the tests and the tools
#   make deps          install the Debian packages we need, when they are missing
#   make test          deps, then every test: plain build, clang -Werror build, ASan+UBSan build
#   make check         the tests of one build only (BUILD=..., SANITIZE=...)
#   make demo          replay a shipped capture and show what was recorded
#   make bench         benchmarks, printed as ratios measured side by side in one run
#   make SANITIZE=address,undefined   a sanitizer build (in build/san)

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

.PHONY: all deps test check unit warnings bench demo clean
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
	libcap-ng-dev valgrind chromium iproute2
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

# The shipped example: replay a capture and show what was recorded.
DEMO_CAP := captures/public/zeek/pubsub.pcap
demo: deps
	@$(MAKE) --no-print-directory $(BIN)
	$(BIN) replay -q -w $(BUILD)/demo.db $(DEMO_CAP)
	@echo; echo "== connections"
	@sqlite3 -header -column $(BUILD)/demo.db \
		"SELECT id, client, server, app, pkts_c2s + pkts_s2c AS packets, \
		 bytes_c2s, bytes_s2c, gaps_c2s + gaps_s2c AS gaps, close_reason FROM connections"
	@echo; echo "== timeline (cachetap timeline $(BUILD)/demo.db)"
	@$(BIN) timeline $(BUILD)/demo.db

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/main.d $(TEST_BIN:=.d) $(TOOL_BIN:=.d)
