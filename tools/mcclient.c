/* mcclient: a scripted memcached client for tests, which sends exactly the bytes a script
 * gives (text, meta, binary, over TCP and UDP) and waits for the replies it expects, so an
 * integration test controls every byte on the wire (memcached doc/protocol.txt for the UDP
 * frame header).
 *
 *   mcclient [-t TIMEOUT_MS] HOST PORT SCRIPT
 *
 * Script lines (TEXT takes the escapes \r \n \t \s \\ \xNN; HEX ignores spaces):
 *   send TEXT           write on the TCP connection (opened at the first use)
 *   sendhex HEX         the same, in hex
 *   expect TEXT         read the TCP connection until what arrived since the last expect
 *                       contains TEXT; fail on timeout
 *   expecthex HEX       the same, in hex
 *   close               close the TCP connection (the next send opens a new one: a new client)
 *   udp ID TEXT         one UDP datagram: frame header (request id ID, sequence 0 of 1) + TEXT
 *   uexpect ID TEXT     read UDP datagrams until the payloads for request id ID contain TEXT
 *   sleep MS
 *   # ...               a comment
 * Everything received is printed on stdout, escaped, one "< " line per read. Exit status: 0
 * when every expect was met, 1 when one timed out or the connection failed, 2 on bad usage.
 *
 * Limits: CT_MCCLIENT_* below (a tool, not part of the pipeline; the reply buffer is fixed). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cachetap/common.h"

#define MCCLIENT_BUF_BYTES (1u << 20)   /* replies kept between two expects */
#define MCCLIENT_LINE_BYTES 65536u      /* one script line */
#define MCCLIENT_DGRAM_BYTES 65536u     /* one UDP datagram */

static const char *host;
static uint16_t port;
static int timeout_ms = 3000;
static int tcp_fd = -1, udp_fd = -1;
static uint8_t rbuf[MCCLIENT_BUF_BYTES];
static size_t rlen;

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Script text to bytes. Returns the length, or -1 on a bad escape. */
static long unescape(const char *p, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (*p) {
		int c = (unsigned char)*p++;
		if (c == '\\') {
			int e = (unsigned char)*p++;
			switch (e) {
			case 'r': c = '\r'; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 's': c = ' '; break;
			case '\\': c = '\\'; break;
			case 'x': {
				int hi = hexval(p[0]), lo = hi >= 0 ? hexval(p[1]) : -1;
				if (lo < 0)
					return -1;
				c = hi << 4 | lo;
				p += 2;
				break;
			}
			default:
				return -1;
			}
		}
		if (n == cap)
			return -1;
		out[n++] = (uint8_t)c;
	}
	return (long)n;
}

static long unhex(const char *p, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (*p) {
		if (*p == ' ') {
			p++;
			continue;
		}
		int hi = hexval(p[0]), lo = hi >= 0 ? hexval(p[1]) : -1;
		if (lo < 0 || n == cap)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
	}
	return (long)n;
}

static void show(const char *tag, const uint8_t *p, size_t n)
{
	printf("%s", tag);
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r')
			printf("\\r");
		else if (p[i] == '\n')
			printf("\\n");
		else if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '\\')
			printf("\\x%02x", p[i]);
		else
			putchar(p[i]);
	}
	putchar('\n');
	fflush(stdout);
}

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static struct sockaddr_in server_addr(void)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		fprintf(stderr, "mcclient: %s: not an IPv4 address\n", host);
		exit(2);
	}
	return a;
}

static int tcp_open(void)
{
	if (tcp_fd >= 0)
		return 0;
	struct sockaddr_in a = server_addr();
	tcp_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (tcp_fd < 0 || connect(tcp_fd, (struct sockaddr *)&a, sizeof a) != 0) {
		fprintf(stderr, "mcclient: connect %s:%u: %s\n", host, port, strerror(errno));
		return -1;
	}
	rlen = 0;
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads the TCP connection until rbuf contains want, or the timeout. */
static int tcp_expect(const uint8_t *want, size_t wlen)
{
	int64_t deadline = now_ms() + timeout_ms;
	if (tcp_open() != 0)
		return -1;
	for (;;) {
		if (memmem(rbuf, rlen, want, wlen)) {
			rlen = 0;
			return 0;
		}
		int64_t left = deadline - now_ms();
		struct pollfd pf = { tcp_fd, POLLIN, 0 };
		if (left <= 0 || poll(&pf, 1, (int)left) <= 0 || rlen == sizeof rbuf)
			break;
		ssize_t r = read(tcp_fd, rbuf + rlen, sizeof rbuf - rlen);
		if (r <= 0)
			break;
		show("< ", rbuf + rlen, (size_t)r);
		rlen += (size_t)r;
	}
	show("mcclient: timed out; got: ", rbuf, rlen);
	return -1;
}

static int udp_open(void)
{
	if (udp_fd >= 0)
		return 0;
	struct sockaddr_in a = server_addr();
	udp_fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (udp_fd < 0 || connect(udp_fd, (struct sockaddr *)&a, sizeof a) != 0) {
		fprintf(stderr, "mcclient: udp %s:%u: %s\n", host, port, strerror(errno));
		return -1;
	}
	return 0;
}

/* The 8-byte UDP frame header: request id, sequence, total datagrams, reserved. */
static int udp_send(unsigned id, const uint8_t *p, size_t n)
{
	static uint8_t d[MCCLIENT_DGRAM_BYTES];
	if (udp_open() != 0 || n + 8 > sizeof d)
		return -1;
	d[0] = (uint8_t)(id >> 8);
	d[1] = (uint8_t)id;
	d[2] = d[3] = 0;
	d[4] = 0;
	d[5] = 1;
	d[6] = d[7] = 0;
	memcpy(d + 8, p, n);
	return send(udp_fd, d, n + 8, 0) == (ssize_t)(n + 8) ? 0 : -1;
}

/* Reads datagrams until the payloads for request id `id` contain want. Datagrams arrive in
 * order on loopback; payloads of one id are concatenated. */
static int udp_expect(unsigned id, const uint8_t *want, size_t wlen)
{
	static uint8_t d[MCCLIENT_DGRAM_BYTES];
	int64_t deadline = now_ms() + timeout_ms;
	size_t got = 0;
	if (udp_open() != 0)
		return -1;
	for (;;) {
		if (memmem(rbuf, got, want, wlen))
			return 0;
		int64_t left = deadline - now_ms();
		struct pollfd pf = { udp_fd, POLLIN, 0 };
		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			break;
		ssize_t r = recv(udp_fd, d, sizeof d, 0);
		if (r < 8)
			continue;
		show("< udp ", d, (size_t)r);
		unsigned rid = (unsigned)d[0] << 8 | d[1];
		size_t pl = (size_t)r - 8;
		if (rid != id || got + pl > sizeof rbuf)
			continue;
		memcpy(rbuf + got, d + 8, pl);
		got += pl;
	}
	show("mcclient: udp timed out; got: ", rbuf, got);
	return -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: mcclient [-t TIMEOUT_MS] HOST PORT SCRIPT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int a = 1;
	if (a + 1 < argc && strcmp(argv[a], "-t") == 0) {
		timeout_ms = atoi(argv[a + 1]);
		a += 2;
	}
	if (argc - a != 3)
		usage();
	host = argv[a];
	long pv = strtol(argv[a + 1], NULL, 10);
	if (pv <= 0 || pv > 65535)
		usage();
	port = (uint16_t)pv;
	FILE *f = fopen(argv[a + 2], "r");
	if (!f) {
		fprintf(stderr, "mcclient: %s: %s\n", argv[a + 2], strerror(errno));
		return 2;
	}
	static char line[MCCLIENT_LINE_BYTES];
	static uint8_t bytes[MCCLIENT_LINE_BYTES];
	int lineno = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof line, f)) {
		lineno++;
		size_t n = strlen(line);
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (n == 0 || line[0] == '#')
			continue;
		char *sp = strchr(line, ' ');
		const char *arg = sp ? sp + 1 : "";
		if (sp)
			*sp = 0;
		long len = 0;
		unsigned id = 0;
		if (strcmp(line, "udp") == 0 || strcmp(line, "uexpect") == 0) {
			char *end;
			id = (unsigned)strtoul(arg, &end, 10);
			arg = *end == ' ' ? end + 1 : end;
		}
		if (strcmp(line, "sendhex") == 0 || strcmp(line, "expecthex") == 0)
			len = unhex(arg, bytes, sizeof bytes);
		else if (strcmp(line, "close") != 0 && strcmp(line, "sleep") != 0)
			len = unescape(arg, bytes, sizeof bytes);
		if (len < 0) {
			fprintf(stderr, "mcclient: %s:%d: bad bytes\n", argv[a + 2], lineno);
			rc = 2;
			break;
		}
		if (strcmp(line, "send") == 0 || strcmp(line, "sendhex") == 0) {
			show("> ", bytes, (size_t)len);
			rc = tcp_open() == 0 && write_all(tcp_fd, bytes, (size_t)len) == 0 ? 0 : 1;
		} else if (strcmp(line, "expect") == 0 || strcmp(line, "expecthex") == 0) {
			rc = tcp_expect(bytes, (size_t)len) == 0 ? 0 : 1;
		} else if (strcmp(line, "close") == 0) {
			if (tcp_fd >= 0)
				close(tcp_fd);
			tcp_fd = -1;
		} else if (strcmp(line, "udp") == 0) {
			show("> udp ", bytes, (size_t)len);
			rc = udp_send(id, bytes, (size_t)len) == 0 ? 0 : 1;
		} else if (strcmp(line, "uexpect") == 0) {
			rc = udp_expect(id, bytes, (size_t)len) == 0 ? 0 : 1;
		} else if (strcmp(line, "sleep") == 0) {
			struct timespec t = { atoi(arg) / 1000, (long)(atoi(arg) % 1000) * 1000000L };
			nanosleep(&t, NULL);
		} else {
			fprintf(stderr, "mcclient: %s:%d: unknown directive %s\n", argv[a + 2], lineno, line);
			rc = 2;
		}
	}
	fclose(f);
	if (tcp_fd >= 0)
		close(tcp_fd);
	if (udp_fd >= 0)
		close(udp_fd);
	if (rc)
		fprintf(stderr, "mcclient: failed at %s line %d\n", argv[a + 2], lineno);
	return rc;
}
