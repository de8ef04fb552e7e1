/* The SQLite sink: one database per run, WAL mode, prepared statements, batched
 * transactions (CT_STORE_BATCH_ROWS rows or CT_STORE_BATCH_NS, whichever first). The schema
 * and its migrations live in store.c only; the views SPEC section 5 names are the contract. */
#ifndef CACHETAP_STORE_H
#define CACHETAP_STORE_H

#include "cachetap/sink.h"

#define CT_STORE_SCHEMA_VERSION 1

/* Creates a new database at `path`. An existing file is replaced only when it is a cachetap
 * database (it has our meta table); anything else is refused, so a typo cannot destroy a
 * user's file. The file is created with mode 0600. On error returns a negative code and a
 * one-line message in err. */
int ct_store_open(struct ct_sink **out, const char *path, char *err, size_t errlen) CT_WUR;

#endif
