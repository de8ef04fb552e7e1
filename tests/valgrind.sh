#!/usr/bin/env bash
# `make valgrind` points CT_BIN here: the script tests then run cachetap ($CT_VG_BIN) under
# valgrind's memcheck with the options in $CT_VG_OPTS. A memcheck error or a definite leak
# makes the run exit 99, which every test notices as a wrong exit status; the report is on
# stderr. The tools the tests take from CT_BUILD run natively.
exec valgrind ${CT_VG_OPTS:?set by make valgrind} "${CT_VG_BIN:?set by make valgrind}" "$@"
