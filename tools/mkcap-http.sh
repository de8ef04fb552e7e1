#!/usr/bin/env bash
# Records captures/http/api.pcap: real HTTP/1.x traffic between real clients (curl, and a
# socket client for what curl does not send: pipelining, a chunked request with a trailer)
# and a real server (Python's http.server, BaseHTTPRequestHandler in HTTP/1.1 mode),
# on loopback port 7401, written by tcpdump. Used once to make the shipped file; the tests only
# replay it (tests/golden/http.t), so neither Python nor curl is needed to run them.
#
# usage: tools/mkcap-http.sh OUT.pcap     (needs root for tcpdump on lo; python3, curl)
set -euo pipefail
out=${1:?usage: mkcap-http.sh OUT.pcap}
port=${PORT:-7401}
# shellcheck source=tools/caplib.sh
. "$(dirname "$0")/caplib.sh"

cat > "$work/server.py" <<'EOF'
# An API server with every framing we decode: Content-Length, chunked (with a chunk extension
# and a trailer), no length (close-delimited), HEAD, 100-continue, 204, 304, 404.
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailer fields
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def reply(self, code, data=b"", ctype="application/json", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        rid = self.headers.get("X-Request-Id")
        if rid:
            self.send_header("X-Request-Id", rid)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/chunked"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-Checksum")
            self.end_headers()
            for part in (b'{"items":[', b"1,2,3", b"]}"):
                self.wfile.write(b"%x;part=1\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
            self.wfile.write(b"0\r\nX-Checksum: 42\r\n\r\n")
        elif self.path.startswith("/until-close"):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"no length: this body ends when the server closes\n")
            self.close_connection = True
        elif self.path.startswith("/cached"):
            if self.headers.get("If-None-Match") == '"v1"':
                self.reply(304, extra=(("ETag", '"v1"'),))
            else:
                self.reply(200, b'{"v":1}', extra=(("ETag", '"v1"'),))
        elif self.path.startswith("/missing"):
            self.reply(404, b'{"error":"not found"}')
        else:
            self.reply(200, b'{"path":"%s"}' % self.path.encode())

    do_HEAD = do_GET

    def do_POST(self):
        data = self.body()
        self.reply(201, b'{"created":%d}' % len(data))

    def do_PUT(self):
        data = self.body()
        self.reply(200, b'{"stored":%d}' % len(data))

    def do_PATCH(self):
        self.body()
        self.reply(200, b"{}")

    def do_DELETE(self):
        self.send_response(204)
        self.end_headers()

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF

cat > "$work/client.py" <<'EOF'
# What curl does not send: pipelined requests in one segment, a chunked request with a chunk
# extension and a trailer. Each connection sends everything, half-closes, and reads until the
# server, done with the requests, closes too.
import socket, sys, time
port = int(sys.argv[1])

def conn(payload, expect_responses):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
    s.settimeout(5)
    got = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
    s.close()
    if got.count(b"HTTP/1.1 ") != expect_responses:
        sys.exit("client.py: %d responses, want %d" % (got.count(b"HTTP/1.1 "), expect_responses))
    time.sleep(0.05)

# three pipelined requests in one segment, a traceparent on the second
conn(b"GET /items/10 HTTP/1.1\r\nHost: api\r\nX-Request-Id: pipe-1\r\n\r\n"
     b"PUT /items/10 HTTP/1.1\r\nHost: api\r\nX-Request-Id: pipe-2\r\n"
     b"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
     b"Content-Length: 13\r\n\r\n{\"name\":\"v2\"}"
     b"DELETE /items/10 HTTP/1.1\r\nHost: api\r\nX-Request-Id: pipe-3\r\n\r\n", 3)
# a chunked request with a chunk extension and a trailer
conn(b"POST /upload HTTP/1.1\r\nHost: api\r\nTransfer-Encoding: chunked\r\n"
     b"x-request-id: chunk-up\r\n\r\n"
     b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Digest: abc\r\n\r\n", 1)
EOF

# --immediate-mode: otherwise the last packets may still sit in a kernel block at SIGINT
tcpdump_start "$out" "tcp port $port"

python3 "$work/server.py" "$port" &
pids+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/ready" && break; sleep 0.1; done

u=http://127.0.0.1:$port
tp=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01
# keep-alive: three calls on one connection, one 404
curl -s -o /dev/null -o /dev/null -o /dev/null -H 'X-Request-Id: ka-1' \
	"$u/items/1?fields=name,price" "$u/missing/2" "$u/cached/3"
# a write with a JSON body and a traceparent
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -H 'X-Request-Id: post-1' \
	-H "traceparent: $tp" --data '{"name":"widget","price":3}' "$u/items"
# PUT with Expect: 100-continue (the server answers 100 Continue first)
curl -s -o /dev/null -X PUT -H 'Expect: 100-continue' -H 'X-Request-Id: put-100' \
	--data-binary "$(head -c 2000 /dev/zero | tr '\0' x)" "$u/items/4"
# DELETE answered 204, HEAD answered with a Content-Length and no body, a 304
curl -s -o /dev/null -X DELETE -H 'X-Request-Id: del-1' "$u/items/4"
curl -s -o /dev/null -I -H 'X-Request-Id: head-1' "$u/items/5"
curl -s -o /dev/null -H 'If-None-Match: "v1"' "$u/cached/6"
# PATCH with a chunked body (curl sends chunked when told to)
printf 'patch-body' | curl -s -o /dev/null -X PATCH -H 'Transfer-Encoding: chunked' \
	--data-binary @- "$u/items/7"
# a chunked response with chunk extensions and a trailer; a response ended by close
curl -s -o /dev/null "$u/chunked/8"
curl -s -o /dev/null --http1.0 "$u/until-close/9"
python3 "$work/client.py" "$port"
sleep 1
tcpdump_stop
