/* Fuzz target: the memcached text and meta decoder (src/mc_text.c), its UDP framing
 * (src/mc_udp.c) and the memcached protocol module (src/mc_pair.c). The input layout and what
 * is checked: tests/fuzz/mc_target.h and tests/fuzz/fuzz.h. */
#define FZ_MC_FRAMING CT_MC_FRAMING_TEXT
#include "mc_target.h"
