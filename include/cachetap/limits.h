/* Every limit cachetap enforces, in one place, each with its unit in the name or comment.
 *
 * Hitting a limit is never fatal: the module that hits it counts it in a named counter, logs
 * it once, and resyncs or drops the stream (SPEC section 8). Each module owns one section;
 * add new limits to your module's section only. */
#ifndef CACHETAP_LIMITS_H
#define CACHETAP_LIMITS_H

/* ---- capture (src/capture*.c) ---- */
#define CT_CAPTURE_SNAPLEN_BYTES_DEFAULT 262144u    /* live snaplen */
#define CT_CAPTURE_BUFFER_BYTES_DEFAULT (32u << 20) /* live kernel ring, -B */
#define CT_CAPTURE_BUFFER_BYTES_MIN 4096u           /* smallest -B accepted */
#define CT_CAPTURE_TIMEOUT_MS 100                   /* live read wakeup, for --duration/stats */
#define CT_CAPTURE_STATS_PERIOD_NS 1000000000ull    /* live drop counters sampled every 1 s */
#define CT_CAPTURE_MAX_FILES 1024                   /* replay FILE... operands */
#define CT_NODE_MAX_OPTIONS 256u                    /* --node options */
#define CT_NODE_NAME_MAX_BYTES 64u                  /* a --node NAME */
#define CT_BUF_MAX_BYTES (1ull << 30)               /* a ct_buf (buf.h) unless it sets its own */
#define CT_CAPTURE_DESCRIBE_BYTES 256u              /* describe() text, long file lists cut */

/* ---- link/IP decode (src/net.c) ---- */
#define CT_NET_MAX_VLAN_TAGS 4   /* 802.1Q/802.1ad tags walked before giving up */
#define CT_NET_MAX_IPV6_EXTHDRS 8 /* IPv6 extension headers walked before giving up */

/* ---- flow table (src/flow.c) ---- */
#define CT_FLOW_MAX_CONNS 65536u                 /* connections tracked at once; LRU evicted past it */
#define CT_FLOW_IDLE_NS (300ull * 1000000000ull)  /* idle connection expiry, capture time */
#define CT_FLOW_LINGER_NS (2ull * 1000000000ull)  /* a closed connection absorbs late packets this long */
#define CT_FLOW_EXPIRE_SCAN_NS 1000000000ull      /* idle scan runs at most once per 1 s capture time */

/* ---- TCP reassembly (src/reasm.c) ---- */
#define CT_REASM_OOO_MAX_SEGS 256u              /* out-of-order segments queued per direction */
#define CT_REASM_OOO_MAX_BYTES (256u << 10)     /* out-of-order bytes queued per direction */
#define CT_REASM_MEM_MAX_BYTES (32u << 20)      /* out-of-order bytes queued over all flows */
#define CT_REASM_GAP_WAIT_NS 500000000ull       /* a hole older than 0.5 s capture time is a gap */
#define CT_REASM_WINDOW_BYTES (1u << 30)        /* a segment further ahead than 1 GiB is bogus */
#define CT_REASM_TSMAP_ENTRIES 4u               /* recent (offset -> timestamp) marks kept per direction */

/* ---- SQLite store (src/store*.c) ---- */
#define CT_STORE_BATCH_ROWS 10000u              /* rows per transaction */
#define CT_STORE_BATCH_NS 1000000000ull         /* or at most 1 s wall time per transaction */

/* Writer thread (sink_async.c): records handed from the decoding thread to the SQLite one. */
#define CT_ASYNC_BATCHES 4u                     /* batches in flight; then the decoder waits */
#define CT_ASYNC_BATCH_RECORDS 2048u            /* records per batch */
#define CT_ASYNC_ARENA_BYTES (256u * 1024u)     /* string bytes per batch (keys, names) */

/* ---- RESP decoder (src/resp.c) ---- */
#define CT_RESP_MAX_DEPTH 32u             /* aggregates open at once (nesting depth) */
#define CT_RESP_AGG_MAX_ELEMS 2147483647u /* declared count of one aggregate (Redis: INT_MAX) */
#define CT_RESP_BULK_MAX_BYTES (512u << 20) /* a bulk string: Redis proto-max-bulk-len default */
#define CT_RESP_INLINE_MAX_BYTES (64u << 10) /* an inline command line: Redis PROTO_INLINE_MAX_SIZE */
#define CT_RESP_HEADER_MAX_BYTES 128u     /* a length, count, integer, double, boolean or null
					     line, type byte to LF */
#define CT_RESP_LINE_MAX_BYTES (1u << 20) /* a simple string, error or big number line */
#define CT_RESP_ELEM_CAP_BYTES 512u       /* bytes of one element shown to callbacks; longer = cut */
#define CT_RESP_RDB_MAX_BYTES (1ull << 40) /* a replication RDB payload ("$<len>", disk mode) */
#define CT_RESP_RESYNC_INLINE_BYTES 256u  /* an inline line held as a resync candidate; longer
					     lines are not taken as a place to resync */

/* ---- memcached decoders (src/mc_*.c) ---- */
#define CT_MC_KEY_MAX_BYTES 250u      /* memcached KEY_MAX_LENGTH; longer keys are flagged, counted */
#define CT_MC_TOKEN_MAX_BYTES 256u    /* a token assembled across chunks (key, number, meta flag) */
#define CT_MC_WORD_MAX_BYTES 32u      /* command/reply word kept as sent; longer words are cut */
#define CT_MC_TEXT_MAX_BYTES 256u     /* rest-of-line text kept (VERSION, *_ERROR, STAT); cut */
#define CT_MC_META_BUF_BYTES 512u     /* meta flag tokens of one line; more = bad arguments */
#define CT_MC_LINE_MAX_BYTES 8192u    /* a text line other than get/gets/gat/gats */
#define CT_MC_GET_LINE_MAX_BYTES (8u << 20) /* a get/gets/gat/gats line (20,000+ keys) */
#define CT_MC_LINE_MAX_TOKENS 64u     /* tokens on a line other than get/gets/gat/gats */
#define CT_MC_VALUE_MAX_BYTES (1u << 30) /* a value: memcached's largest item size (-I 1024m) */
#define CT_MC_BIN_BODY_MAX_BYTES (CT_MC_VALUE_MAX_BYTES + 1024u) /* binary total body length */
#define CT_MC_BIN_RESYNC_BODY_MAX_BYTES (8u << 20) /* body length believed when resyncing */
#define CT_MC_UDP_SLOTS 8u            /* out-of-order datagrams waiting, per UDP direction */
#define CT_MC_UDP_SLOT_BYTES 1400u    /* largest payload that can wait (memcached sends <= 1400) */
#define CT_MC_UDP_WAIT_NS 500000000ull /* a response missing datagrams is given up after 0.5 s */

/* ---- memcached pairing (src/mc_pair.c) ---- */
#define CT_MC_PAIR_PENDING_MAX 16384u      /* requests awaiting a reply, per connection */
#define CT_MC_PAIR_ARENA_MAX_BYTES (1u << 20) /* keys of those requests, per connection */
#define CT_MC_PAIR_SCAN_BUDGET (1u << 22)  /* pending requests examined for replies that matched
					      none, per connection; past it pairing stops */
#define CT_MC_PAIR_VALUE_SCAN_BUDGET 65536u /* keys compared for VALUE lines of one get that match
					       no requested key; past it only the next key is tried */
#define CT_MC_PAIR_RECOVER_IDLE_NS 1000000000ull /* stopped pairing restarts at a request sent
						    1 s (capture time) after the last traffic */
#define CT_MC_PAIR_UDP_WAIT_NS 2000000000ull /* a UDP request with no reply for 2 s is unanswered */
#define CT_MC_PAIR_DETAIL_BYTES 96u        /* an event's detail text */

/* ---- Redis command table (src/cmdtab_redis.c) ---- */
#define CT_CMDTAB_REDIS_NAME_MAX_BYTES 32u /* longest (sub)command name looked up; longer = unknown */
#define CT_CMDTAB_REDIS_NUM_MAX_BYTES 20u  /* longest integer argument parsed ("-9223372036854775808") */

/* ---- Redis pairing and classification (src/redis_pair.c) ---- */
#define CT_REDIS_PENDING_MAX 4096u          /* requests awaiting a reply, per connection */
#define CT_REDIS_TX_MAX 4096u               /* commands queued in one MULTI */
#define CT_REDIS_KEYS_MAX 65536u            /* keys held for pending requests, per connection */
#define CT_REDIS_ARENA_MAX_BYTES (1u << 20) /* bytes of those keys, per connection */
#define CT_REDIS_CMD_NAME_BYTES 32u         /* command name kept (longer names are cut) */
#define CT_REDIS_PUSH_ARG_BYTES 512u        /* push kind/channel/payload bytes kept per message */
#define CT_CHANNEL_MAX_GLOBS 32u            /* --channel globs (application invalidation bus) */
#define CT_CHANNEL_GLOB_MAX_BYTES 256u      /* one --channel glob; matching is O(glob x channel) */

/* ---- HTTP/1.x (src/http_pair.c; the header section is capped by libhttp-parser at 80 KiB) ---- */
#define CT_HTTP_PENDING_MAX 64u            /* requests awaiting a response, per connection */
#define CT_HTTP_PATH_MAX_BYTES 1024u       /* request target kept (path and query); longer = cut */
#define CT_HTTP_REQID_MAX_BYTES 128u       /* X-Request-Id value kept; longer = cut */
#define CT_HTTP_TRACEPARENT_MAX_BYTES 128u /* traceparent value kept (W3C version 00: 55) */
#define CT_HTTP_HEADER_NAME_MAX_BYTES 32u  /* header name bytes compared; longer = none we use */
#define CT_HTTP_DETAIL_MAX_BYTES 256u      /* path bytes in the timeline event's detail */
#define CT_HTTP_RESYNC_PREFIX_BYTES 32u    /* start-line prefix held while resyncing */
#define CT_HTTP_GAP_FILL_MAX_BYTES (64u << 20) /* a gap inside a body stepped over; larger = resync */

/* ---- payload detection (src/detect.c, src/pipeline.c) ---- */
#define CT_DETECT_LINE_MAX_BYTES 4096u /* bytes of a first line or bulk examined for evidence */
#define CT_DETECT_MAX_CHUNKS 8u        /* chunks per connection examined before giving up */

/* ---- scenario files (src/scenario.c) ---- */
#define CT_SCENARIO_FILE_MAX_BYTES (4u << 20)  /* a scenario file */
#define CT_SCENARIO_LINE_MAX_BYTES 16384u      /* one line, newline excluded */
#define CT_SCENARIO_MAX_STEPS 10000u           /* steps (lines other than declarations) */
#define CT_SCENARIO_MAX_DEPTH 8u               /* repeat blocks open at once */
#define CT_SCENARIO_MAX_VARS 64u               /* distinct variable names */
#define CT_SCENARIO_NAME_MAX_BYTES 64u         /* a variable or node name */
#define CT_SCENARIO_MAX_NODES 64u              /* node declarations (a wait's node set is a bitmap) */
#define CT_SCENARIO_MAX_HEADERS 32u            /* header declarations */
#define CT_SCENARIO_REPEAT_MAX 1000000u        /* iterations of one repeat */
#define CT_SCENARIO_VALUE_MAX_BYTES (1u << 20) /* an argument after variable expansion */
#define CT_SCENARIO_DURATION_MAX_NS (3600ull * 1000000000ull) /* a sleep or wait: 1 hour */

/* ---- scenario runner (src/drive.c) ---- */
#define CT_DRIVE_BODY_MAX_BYTES (8u << 20)     /* response body kept for expect json; more = cut */
#define CT_DRIVE_HTTP_TIMEOUT_MS 30000L        /* one HTTP call, connect to last byte */
#define CT_DRIVE_IO_TIMEOUT_MS 5000            /* connect, send or receive of a cache check */
#define CT_DRIVE_MC_LINE_MAX_BYTES 2048u       /* a memcached reply line (VALUE/VA/EN/errors) */
#define CT_DRIVE_VALUE_MAX_BYTES (8u << 20)    /* a memcached value read by a check */
#define CT_DRIVE_SHOW_BYTES 200u               /* value bytes shown in a message; longer = cut */
#define CT_DRIVE_ROWS_MAX 1000000u             /* driver rows (calls, checks, assertions, waits)
						  held until the end of the run; more are counted */
#define CT_DRIVE_CONNS_MAX 65536u              /* live connections whose endpoints are known */
#define CT_DRIVE_ARRIVALS_MAX 65536u           /* invalidations held for waits; oldest dropped */
#define CT_DRIVE_KEY_MAX_BYTES 1024u           /* key bytes held per arrival; longer never match */
#define CT_DRIVE_WAIT_GRACE_NS 500000000ull    /* a wait also waits this long past its deadline
						  for packets the capture has not read yet */
#define CT_DRIVE_DRAIN_MAX_NS 3000000000ull    /* at the end, wait at most this long for the
						  capture to read what is buffered */
#define CT_DRIVE_RESYNC_POLL_NS 50000000L     /* a replica's link is checked every 50 ms ... */
#define CT_DRIVE_RESYNC_TRIES 100              /* ... at most this often (5 s) after CLIENT KILL */
#define CT_DRIVE_SPAWN_MAX 64u                 /* spawned calls in flight (a thread and a libcurl
						  handle each); one more first awaits the oldest */

/* ---- propagation analysis (src/analyze.c) ---- */
#define CT_ANALYZE_KEY_ROWS_MAX 10000000u     /* timeline rows of one key held at once; past it
						 the key's later rows are left out (warning) */
#define CT_ANALYZE_RESULT_ROWS_MAX 10000000u  /* origins, propagation rows, stale reads or stale
						 sets held; past it left out (warning) */
#define CT_ANALYZE_WARNINGS_MAX 1000u         /* warning rows written; the rest are counted */
#define CT_ANALYZE_KEY_SHOWN_MAX_BYTES 200u   /* key bytes quoted in a warning */
#define CT_ANALYZE_KEY_BYTES_MAX 4096u        /* a key made by --key-map; longer = no origin */
#define CT_ANALYZE_KEYMAP_VARS_MAX 16u        /* {name}s in one --key-map path */
#define CT_ANALYZE_KEYMAP_MATCH_STEPS 100000u /* work matching one path to one --key-map
						 (backtracking over wire bytes); past it no match */

/* ---- reports (src/report*.c) ---- */
#define CT_REPORT_KEY_MAPS_MAX 64u          /* --key-map options */
#define CT_REPORT_DEADLINE_MAX_NS (3600ull * 1000000000ull) /* --deadline at most 1 hour */
#define CT_REPORT_BUSY_TIMEOUT_MS 10000     /* wait for a live capture's batch to commit */
#define CT_REPORT_RECIPIENTS_MAX 100000u    /* recipients listed; past it counted in a warning */
#define CT_REPORT_WARNINGS_MAX 1000u        /* analysis warnings listed; past it counted */
#define CT_REPORT_CDF_POINTS 256u           /* sampled points per latency CDF and stale curve */
#define CT_REPORT_CDF_SERIES_MAX 20u        /* recipients drawn in the HTML latency CDF chart */
#define CT_REPORT_TEXT_LIST_MAX 10u         /* rows per list in the text report ("... N more") */
#define CT_REPORT_HTML_ROWS_MAX 1000u       /* rows per table in the HTML report */
#define CT_REPORT_SWIM_KEYS 6u              /* keys drawn as swim-lane timelines */
#define CT_REPORT_SWIM_SCAN_ROWS 1000u      /* worst origins examined to find those keys */
#define CT_REPORT_SWIM_LANES_MAX 32u        /* recipient lanes per swim-lane timeline */
#define CT_REPORT_SWIM_READS_MAX 500u       /* reads drawn per swim-lane timeline */
#define CT_REPORT_KEY_SHOWN_MAX_BYTES 200u  /* key bytes shown in text and HTML (JSON, CSV: all) */

#endif
