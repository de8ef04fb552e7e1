-- The hand-made timeline behind tests/golden/report.t, loaded into a database that
-- `cachetap replay` created (so the schema is the store's own). Times are ns since the epoch;
-- T = 1700000000 s (2023-11-14T22:13:20Z) and every comment gives times as T + seconds.
--
-- Nodes: r0 primary 10.0.0.1:6379, r1 its replica 10.0.0.2:6379 (replication link: conn 3),
-- m0 memcached 10.0.0.3:11211; the application is 10.0.0.9.
-- Three API write calls, each deleting its key on r0 while in flight:
--   1. PUT /items/1 at T+1.000..1.010: r0 DEL at +2 ms, r1 (replication) at +5 ms; m0 held
--      item:1 (read at T+0.902) and never gets a delete: missed (deadline 5 s, the capture
--      runs to T+9). m0 then returns the old value at T+1.020: stale read, 10 ms after the ack.
--   2. PUT /items/2 at T+2.000..2.008: r0 +1 ms, r1 +3 ms, m0 DELETE +4 ms. Then the app
--      writes the old value back into m0 at T+2.050 (stale set, 46 ms after m0's arrival),
--      and m0 returns it at T+2.060 (stale read, 52 ms after the ack).
--   3. DELETE of a key made of untrusted bytes (< > & " ' , \x01 \xff) at T+3.000..3.005:
--      r0 +1 ms, r1 +2 ms; r1 then returns the old value at T+3.010 (stale read, 5 ms).
--   4. PUT /items/4 at T+4.000..4.005 touches no cache while in flight; the application
--      deletes item:4 on r0 only at T+4.100. It is an origin only with
--      --key-map 'PUT /items/{id} -> item:{id}' (r0 arrival +100 ms).
-- So: r0 latencies 1, 1, 2 ms; r1 2, 3, 5 ms; m0 4 ms and one missed; 3 stale reads, 1 set.
DELETE FROM events;
DELETE FROM connections;
UPDATE meta SET value = 'file:report-fixture.pcap' WHERE key = 'source';
UPDATE meta SET value = '0.0.0-fixture' WHERE key = 'tool_version';
UPDATE run_stats SET packets = 64, bytes = 6400, kernel_drops = 0, interface_drops = 0,
  reassembly_gaps = 0, parse_errors = 0, first_ts_ns = 1700000000900000000,
  last_ts_ns = 1700000009000000000;
INSERT INTO nodes(name, endpoint, role, source) VALUES
  ('r0', '10.0.0.1:6379', 'primary', 'option'),
  ('r1', '10.0.0.2:6379', 'replica', 'option'),
  ('m0', '10.0.0.3:11211', 'memcached', 'option');
INSERT INTO connections(id, proto, client, server, orient, app, first_ts_ns, last_ts_ns,
  gaps_c2s, gaps_s2c, midstream) VALUES
  (1, 'tcp', '10.0.0.9:40001', '10.0.0.1:6379', 'syn', 'redis', 1700000000900000000, 1700000009000000000, 0, 0, 0),
  (2, 'tcp', '10.0.0.9:40002', '10.0.0.2:6379', 'syn', 'redis', 1700000000900000000, 1700000009000000000, 0, 0, 0),
  (3, 'tcp', '10.0.0.2:50000', '10.0.0.1:6379', 'syn', 'redis', 1700000000900000000, 1700000009000000000, 0, 0, 0),
  (4, 'tcp', '10.0.0.9:40003', '10.0.0.3:11211', 'syn', 'memcached', 1700000000900000000, 1700000009000000000, 0, 0, 0);
INSERT INTO node_links(conn_id, side, endpoint) VALUES (3, 'client', '10.0.0.2:6379');
CREATE TABLE IF NOT EXISTS api_calls(
  id INTEGER PRIMARY KEY, request_id TEXT, method TEXT, path TEXT, status INTEGER,
  ts_start_ns INTEGER, ts_end_ns INTEGER, source TEXT NOT NULL,
  conn_id INTEGER, client TEXT, server TEXT, traceparent TEXT,
  ts_req_end_ns INTEGER, ts_resp_start_ns INTEGER,
  req_body_bytes INTEGER, resp_body_bytes INTEGER,
  wire INTEGER NOT NULL DEFAULT 0, driver INTEGER NOT NULL DEFAULT 0, step TEXT,
  curl_dns_ns INTEGER, curl_connect_ns INTEGER, curl_ttfb_ns INTEGER, curl_total_ns INTEGER);
INSERT INTO api_calls(id, request_id, method, path, status, ts_start_ns, ts_end_ns, source,
  client, server, wire) VALUES
  (1, 'req-1', 'PUT', '/items/1', 200, 1700000001000000000, 1700000001010000000, 'wire', '10.0.0.8:33000', '10.0.0.9:8080', 1),
  (2, 'req-2', 'PUT', '/items/2', 200, 1700000002000000000, 1700000002008000000, 'wire', '10.0.0.8:33000', '10.0.0.9:8080', 1),
  (3, 'req-3', 'DELETE', '/items/odd', 204, 1700000003000000000, 1700000003005000000, 'wire', '10.0.0.8:33000', '10.0.0.9:8080', 1),
  (4, 'req-4', 'PUT', '/items/4', 200, 1700000004000000000, 1700000004005000000, 'wire', '10.0.0.8:33000', '10.0.0.9:8080', 1);
-- The odd key: <b>&"x',y then the bytes 0x01 and 0xff.
CREATE TEMP TABLE k(odd TEXT);
INSERT INTO k VALUES (CAST(X'3c623e262278272c7901ff' AS TEXT));
INSERT INTO events(id, conn_id, ts_ns, first_ts_ns, proto, dir, via, cmd, class, key, status,
  latency_ns, value_hash, db, flags, detail, stream_off) VALUES
  -- Before call 1: every node holds item:1 (read hits of value aaaa).
  (1, 1, 1700000000900000000, 1700000000900000000, 'redis', 'c2s', 'command', 'GET', 'read', 'item:1', 'hit', 50000, 'aaaaaaaaaaaaaaaa', 0, 0, NULL, 0),
  (2, 2, 1700000000901000000, 1700000000901000000, 'redis', 'c2s', 'command', 'GET', 'read', 'item:1', 'hit', 50000, 'aaaaaaaaaaaaaaaa', 0, 0, NULL, 0),
  (3, 4, 1700000000902000000, 1700000000902000000, 'memcached', 'c2s', 'command', 'GET', 'read', 'item:1', 'hit', 50000, 'aaaaaaaaaaaaaaaa', NULL, 0, NULL, 0),
  -- Call 1 in flight: DEL on r0, replicated to r1. Nothing reaches m0.
  (4, 1, 1700000001002000000, 1700000001002000000, 'redis', 'c2s', 'command', 'DEL', 'delete', 'item:1', 'ok', 100000, NULL, 0, 0, NULL, 20),
  (5, 3, 1700000001005000000, 1700000001005000000, 'redis', 's2c', 'replication', 'DEL', 'delete', 'item:1', 'noreply', NULL, NULL, 0, 0, NULL, 0),
  -- After the ack: m0 still returns the old value; r0 misses.
  (6, 4, 1700000001020000000, 1700000001020000000, 'memcached', 'c2s', 'command', 'GET', 'read', 'item:1', 'hit', 50000, 'aaaaaaaaaaaaaaaa', NULL, 0, NULL, 20),
  (7, 1, 1700000001030000000, 1700000001030000000, 'redis', 'c2s', 'command', 'GET', 'read', 'item:1', 'miss', 50000, NULL, 0, 0, NULL, 40),
  -- Before call 2: every node holds item:2 (value bbbb).
  (8, 1, 1700000001900000000, 1700000001900000000, 'redis', 'c2s', 'command', 'GET', 'read', 'item:2', 'hit', 50000, 'bbbbbbbbbbbbbbbb', 0, 0, NULL, 60),
  (9, 2, 1700000001901000000, 1700000001901000000, 'redis', 'c2s', 'command', 'GET', 'read', 'item:2', 'hit', 50000, 'bbbbbbbbbbbbbbbb', 0, 0, NULL, 20),
  (10, 4, 1700000001902000000, 1700000001902000000, 'memcached', 'c2s', 'command', 'GET', 'read', 'item:2', 'hit', 50000, 'bbbbbbbbbbbbbbbb', NULL, 0, NULL, 40),
  -- Call 2 in flight: DEL on r0, replicated to r1, and DELETE on m0.
  (11, 1, 1700000002001000000, 1700000002001000000, 'redis', 'c2s', 'command', 'DEL', 'delete', 'item:2', 'ok', 100000, NULL, 0, 0, NULL, 80),
  (12, 3, 1700000002003000000, 1700000002003000000, 'redis', 's2c', 'replication', 'DEL', 'delete', 'item:2', 'noreply', NULL, NULL, 0, 0, NULL, 30),
  (13, 4, 1700000002004000000, 1700000002004000000, 'memcached', 'c2s', 'command', 'DELETE', 'delete', 'item:2', 'ok', 80000, NULL, NULL, 0, NULL, 60),
  -- After it: the old value is written back into m0 (stale set) and read from it (stale read).
  (14, 4, 1700000002050000000, 1700000002050000000, 'memcached', 'c2s', 'command', 'SET', 'write', 'item:2', 'ok', 60000, 'bbbbbbbbbbbbbbbb', NULL, 0, NULL, 80),
  (15, 4, 1700000002060000000, 1700000002060000000, 'memcached', 'c2s', 'command', 'GET', 'read', 'item:2', 'hit', 50000, 'bbbbbbbbbbbbbbbb', NULL, 0, NULL, 120);
INSERT INTO events(id, conn_id, ts_ns, first_ts_ns, proto, dir, via, cmd, class, key, status,
  latency_ns, value_hash, db, flags, detail, stream_off)
  SELECT 16, 1, 1700000002900000000, 1700000002900000000, 'redis', 'c2s', 'command', 'GET', 'read', odd, 'hit', 50000, 'cccccccccccccccc', 0, 0, NULL, 100 FROM k
  UNION ALL
  SELECT 17, 1, 1700000003001000000, 1700000003001000000, 'redis', 'c2s', 'command', 'DEL', 'delete', odd, 'ok', 100000, NULL, 0, 0, NULL, 120 FROM k
  UNION ALL
  SELECT 18, 3, 1700000003002000000, 1700000003002000000, 'redis', 's2c', 'replication', 'DEL', 'delete', odd, 'noreply', NULL, NULL, 0, 0, NULL, 60 FROM k
  UNION ALL
  SELECT 19, 2, 1700000003010000000, 1700000003010000000, 'redis', 'c2s', 'command', 'GET', 'read', odd, 'hit', 50000, 'cccccccccccccccc', 0, 0, NULL, 40 FROM k;
-- Call 4: item:4 held by r0, deleted only after the response.
INSERT INTO events(id, conn_id, ts_ns, first_ts_ns, proto, dir, via, cmd, class, key, status,
  latency_ns, value_hash, db, flags, detail, stream_off) VALUES
  (20, 1, 1700000003900000000, 1700000003900000000, 'redis', 'c2s', 'command', 'GET', 'read', 'item:4', 'hit', 50000, 'dddddddddddddddd', 0, 0, NULL, 160),
  (21, 1, 1700000004100000000, 1700000004100000000, 'redis', 'c2s', 'command', 'DEL', 'delete', 'item:4', 'ok', 100000, NULL, 0, 0, NULL, 180);
-- The capture goes on to T+9 (past every deadline).
INSERT INTO events(id, conn_id, ts_ns, first_ts_ns, proto, dir, via, cmd, class, key, status,
  latency_ns, value_hash, db, flags, detail, stream_off) VALUES
  (22, 1, 1700000009000000000, 1700000009000000000, 'redis', 'c2s', 'command', 'PING', 'other', NULL, 'ok', 40000, NULL, 0, 0, NULL, 200);
