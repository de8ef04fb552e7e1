/* Fuzz target: the memcached binary decoder (src/mc_bin.c), its UDP framing (src/mc_udp.c) and
 * the memcached protocol module (src/mc_pair.c). The input layout and what is checked:
 * tests/fuzz/mc_target.h and tests/fuzz/fuzz.h. */
#define FZ_MC_FRAMING CT_MC_FRAMING_BINARY
#include "mc_target.h"
