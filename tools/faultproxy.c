/* faultproxy: a small fault-injecting TCP proxy for the testbed. It listens on a loopback port,
 * connects each client to one upstream HOST:PORT, and holds every chunk of bytes it reads for a
 * fixed delay before forwarding it, in order, so one cache node's invalidations arrive late
 * without tc/netem (which is not in every kernel and, on a shared loopback, would delay every
 * test's traffic).
 *
 *   faultproxy --listen [ADDR:]PORT --connect HOST:PORT [--delay MS] [--delay-s2c MS]
 *              [--source ADDR]
 *
 * --delay applies to client->server bytes, --delay-s2c to server->client bytes (a replica
 * behind the proxy receives its replication stream that way). --source binds the upstream
 * connections to ADDR (e.g. 127.0.0.2), so that a capture can leave out the proxy's own leg
 * with a filter such as "not host 127.0.0.2". Each read() chunk is queued
 * with its due time (CLOCK_MONOTONIC at arrival + delay) and written when due; ppoll() sleeps
 * until the earliest due time, to the nanosecond. A half-close is forwarded once the queue in
 * that direction has drained; an error on either side closes both.
 *
 * Limits: FP_PAIRS connections at once (more are accepted and closed, counted on stderr),
 * FP_QUEUE_BYTES queued per direction (reading that side pauses until the queue drains),
 * FP_CHUNK_BYTES per read, FP_DELAY_MS_MAX. It runs until SIGINT/SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cachetap/common.h"

#define FP_PAIRS 256                  /* client connections proxied at once */
#define FP_QUEUE_BYTES (8u << 20)     /* bytes held per direction before reading pauses */
#define FP_CHUNK_BYTES 65536u         /* bytes per read */
#define FP_DELAY_MS_MAX 600000        /* --delay, --delay-s2c */

struct chunk {
	struct chunk *next;
	uint64_t due_ns;
	size_t len, off;
	char data[];
};

/* One direction: bytes read from `from`, queued, written to `to`. */
struct dir {
	struct chunk *head, *tail;
	size_t queued;
	int eof;                      /* `from` has ended: shut down `to` once the queue drains */
	int shut;                     /* ... done */
};

struct pair {
	int used;
	int fd[2];                    /* 0 client, 1 upstream */
	int connecting;               /* upstream connect() in progress */
	struct dir d[2];              /* d[0] client->upstream, d[1] upstream->client */
};

static struct pair pairs[FP_PAIRS];
static uint64_t delay_ns[2];
static struct sockaddr_storage up_addr, src_addr;
static socklen_t up_len, src_len;
static volatile sig_atomic_t stop;
static uint64_t refused, accepted;

static void on_signal(int s) { CT_UNUSED(s); stop = 1; }

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("faultproxy: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void pair_close(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		if (p->fd[i] >= 0) close(p->fd[i]);
		struct chunk *c = p->d[i].head;
		while (c) {
			struct chunk *n = c->next;
			ct_free(c);
			c = n;
		}
	}
	memset(p, 0, sizeof *p);
}

static void do_accept(int lfd)
{
	for (;;) {
		int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) return;
		struct pair *p = NULL;
		for (int i = 0; i < FP_PAIRS && !p; i++)
			if (!pairs[i].used) p = &pairs[i];
		int ufd = p ? socket(up_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) : -1;
		if (ufd < 0) {
			refused++;
			fprintf(stderr, "faultproxy: refused a connection (%s); %llu so far\n",
				p ? strerror(errno) : "FP_PAIRS reached", (unsigned long long)refused);
			close(cfd);
			continue;
		}
		int one = 1;
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		setsockopt(ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (src_len && bind(ufd, (struct sockaddr *)&src_addr, src_len) < 0) {
			fprintf(stderr, "faultproxy: bind --source: %s\n", strerror(errno));
			close(ufd);
			close(cfd);
			continue;
		}
		int rc = connect(ufd, (struct sockaddr *)&up_addr, up_len);
		if (rc < 0 && errno != EINPROGRESS) {
			fprintf(stderr, "faultproxy: connect upstream: %s\n", strerror(errno));
			close(ufd);
			close(cfd);
			continue;
		}
		memset(p, 0, sizeof *p);
		p->used = 1;
		p->fd[0] = cfd;
		p->fd[1] = ufd;
		p->connecting = rc < 0;
		accepted++;
	}
}

/* Read what `from` has into direction i's queue. Returns -1 when the pair must close. */
static int pump_in(struct pair *p, int i)
{
	struct dir *d = &p->d[i];
	while (!d->eof && d->queued < FP_QUEUE_BYTES) {
		struct chunk *c = ct_malloc(sizeof *c + FP_CHUNK_BYTES);
		if (!c) return -1;
		ssize_t r = read(p->fd[i], c->data, FP_CHUNK_BYTES);
		if (r <= 0) {
			ct_free(c);
			if (r == 0) { d->eof = 1; return 0; }
			if (errno == EAGAIN || errno == EINTR) return 0;
			return -1;
		}
		/* keep only what was read: a small chunk does not pin 64 KiB */
		struct chunk *s = ct_realloc(c, sizeof *c + (size_t)r);
		if (s) c = s;
		c->next = NULL;
		c->due_ns = now_ns() + delay_ns[i];
		c->len = (size_t)r;
		c->off = 0;
		if (d->tail) d->tail->next = c;
		else d->head = c;
		d->tail = c;
		d->queued += (size_t)r;
	}
	return 0;
}

/* Write direction i's due chunks to the other side. Returns -1 when the pair must close. */
static int pump_out(struct pair *p, int i, uint64_t now)
{
	struct dir *d = &p->d[i];
	int to = p->fd[1 - i];
	while (d->head && d->head->due_ns <= now) {
		struct chunk *c = d->head;
		ssize_t w = send(to, c->data + c->off, c->len - c->off, MSG_NOSIGNAL);
		if (w < 0) return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
		c->off += (size_t)w;
		d->queued -= (size_t)w;
		if (c->off < c->len) return 0;
		d->head = c->next;
		if (!d->head) d->tail = NULL;
		ct_free(c);
	}
	if (d->eof && !d->head && !d->shut) {
		shutdown(to, SHUT_WR);
		d->shut = 1;
	}
	return 0;
}

enum { A_CONNECT, A_LISTEN, A_SOURCE };

/* A_CONNECT: HOST:PORT; A_LISTEN: [ADDR:]PORT (ADDR default 127.0.0.1); A_SOURCE: ADDR. */
static void parse_addr(const char *arg, const char *opt, int mode, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	char host[256] = "127.0.0.1";
	const char *colon = strrchr(arg, ':'), *port = arg;
	if (mode == A_SOURCE) {
		colon = NULL;
		port = "0";
		if (strlen(arg) >= sizeof host) die("%s: '%s' too long", opt, arg);
		snprintf(host, sizeof host, "%s", arg);
	}
	if (colon) {
		size_t hl = (size_t)(colon - arg);
		if (hl == 0 || hl >= sizeof host) die("%s: bad host in '%s'", opt, arg);
		memcpy(host, arg, hl);
		host[hl] = 0;
		port = colon + 1;
	} else if (mode == A_CONNECT) {
		die("%s: '%s' is not HOST:PORT", opt, arg);
	}
	char *end;
	long pv = strtol(port, &end, 10);
	if (end == port || *end || pv < (mode == A_SOURCE ? 0 : 1) || pv > 65535)
		die("%s: bad port in '%s'", opt, arg);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = mode == A_SOURCE ? AI_NUMERICHOST : 0}, *res = NULL;
	int gai = getaddrinfo(host, port, &hints, &res);
	if (gai != 0 || !res) die("%s: cannot resolve '%s': %s", opt, host, gai_strerror(gai));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
}

static uint64_t parse_delay(const char *arg, const char *opt)
{
	char *end;
	long v = strtol(arg, &end, 10);
	if (end == arg || *end || v < 0 || v > FP_DELAY_MS_MAX)
		die("%s: '%s' is not a delay in 0..%d ms", opt, arg, FP_DELAY_MS_MAX);
	return (uint64_t)v * 1000000ull;
}

static void usage(FILE *f)
{
	fputs("usage: faultproxy --listen [ADDR:]PORT --connect HOST:PORT [--delay MS] [--delay-s2c MS]\n"
	      "                  [--source ADDR]\n"
	      "  --listen [ADDR:]PORT   where to accept clients (ADDR default 127.0.0.1)\n"
	      "  --connect HOST:PORT    the upstream server\n"
	      "  --delay MS             hold client->server bytes MS ms (default 0)\n"
	      "  --delay-s2c MS         hold server->client bytes MS ms (default 0)\n"
	      "  --source ADDR          bind the upstream connections to ADDR\n"
	      "Runs until SIGINT/SIGTERM (exit 0); exit 1 when it cannot listen, 2 on bad usage.\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'}, {"connect", required_argument, NULL, 'c'},
		{"delay", required_argument, NULL, 'd'}, {"delay-s2c", required_argument, NULL, 's'},
		{"source", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	struct sockaddr_storage lss;
	socklen_t llen = 0;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': parse_addr(optarg, "--listen", A_LISTEN, &lss, &llen); break;
		case 'c': parse_addr(optarg, "--connect", A_CONNECT, &up_addr, &up_len); break;
		case 'd': delay_ns[0] = parse_delay(optarg, "--delay"); break;
		case 's': delay_ns[1] = parse_delay(optarg, "--delay-s2c"); break;
		case 'b': parse_addr(optarg, "--source", A_SOURCE, &src_addr, &src_len); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) die("unexpected argument '%s'", argv[optind]);
	if (!llen || !up_len) die("--listen and --connect are required");
	if (src_len && src_addr.ss_family != up_addr.ss_family)
		die("--source and --connect are of different address families");

	int lfd = socket(lss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(lfd, (struct sockaddr *)&lss, llen) < 0 || listen(lfd, 128) < 0) {
		fprintf(stderr, "faultproxy: cannot listen: %s\n", strerror(errno));
		return 1;
	}
	/* wake up when a chunk is due, not up to the default 50 us timer slack later */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "faultproxy: listening, delay c2s %llu ms, s2c %llu ms\n",
		(unsigned long long)(delay_ns[0] / 1000000), (unsigned long long)(delay_ns[1] / 1000000));

	static struct pollfd pfd[1 + 2 * FP_PAIRS];
	static int owner[1 + 2 * FP_PAIRS];
	while (!stop) {
		uint64_t now = now_ns(), next = UINT64_MAX;
		nfds_t n = 0;
		pfd[n].fd = lfd;
		pfd[n].events = POLLIN;
		owner[n++] = -1;
		for (int k = 0; k < FP_PAIRS; k++) {
			struct pair *p = &pairs[k];
			if (!p->used) continue;
			for (int i = 0; i < 2; i++) {
				/* fd[i] is read for direction i and written for direction 1-i */
				struct dir *in = &p->d[i], *out = &p->d[1 - i];
				short ev = 0;
				if (!in->eof && in->queued < FP_QUEUE_BYTES && !(i == 1 && p->connecting))
					ev |= POLLIN;
				if (i == 1 && p->connecting) ev |= POLLOUT;
				if (out->head && !(i == 1 && p->connecting)) {
					if (out->head->due_ns <= now) ev |= POLLOUT;
					else if (out->head->due_ns < next) next = out->head->due_ns;
				}
				/* nothing to wait for on this fd: leave it out, or a hang-up that
				 * poll always reports would spin the loop while queues drain */
				pfd[n].fd = ev ? p->fd[i] : -1;
				pfd[n].events = ev;
				owner[n++] = k * 2 + i;
			}
		}
		struct timespec ts, *tsp = NULL;
		if (next != UINT64_MAX) {
			uint64_t wait = next > now ? next - now : 0;
			ts.tv_sec = (time_t)(wait / 1000000000ull);
			ts.tv_nsec = (long)(wait % 1000000000ull);
			tsp = &ts;
		}
		int r = ppoll(pfd, n, tsp, NULL);
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, "faultproxy: poll: %s\n", strerror(errno));
			return 1;
		}
		if (r < 0) continue;
		if (pfd[0].revents & POLLIN) do_accept(lfd);
		now = now_ns();
		for (nfds_t j = 1; j < n; j++) {
			struct pair *p = &pairs[owner[j] / 2];
			int i = owner[j] % 2;
			if (!p->used) continue;
			short rev = pfd[j].revents;
			if (i == 1 && p->connecting) {
				if (!(rev & (POLLOUT | POLLERR | POLLHUP))) continue;
				int err = 0;
				socklen_t el = sizeof err;
				getsockopt(p->fd[1], SOL_SOCKET, SO_ERROR, &err, &el);
				if (err) {
					fprintf(stderr, "faultproxy: connect upstream: %s\n", strerror(err));
					pair_close(p);
					continue;
				}
				p->connecting = 0;
			}
			if (rev & (POLLERR | POLLNVAL)) {
				pair_close(p);
				continue;
			}
			if ((rev & (POLLIN | POLLHUP)) && pump_in(p, i) < 0) {
				pair_close(p);
				continue;
			}
		}
		/* write whatever is due, on every pair (due times pass without fd events) */
		for (int k = 0; k < FP_PAIRS; k++) {
			struct pair *p = &pairs[k];
			if (!p->used || p->connecting) continue;
			if (pump_out(p, 0, now) < 0 || pump_out(p, 1, now) < 0) {
				pair_close(p);
				continue;
			}
			if (p->d[0].shut && p->d[1].shut) pair_close(p);
		}
	}
	for (int k = 0; k < FP_PAIRS; k++)
		if (pairs[k].used) pair_close(&pairs[k]);
	close(lfd);
	fprintf(stderr, "faultproxy: stopped; %llu connections, %llu refused\n",
		(unsigned long long)accepted, (unsigned long long)refused);
	return 0;
}
