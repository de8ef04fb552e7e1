/* libpcap packet sources: pcap/pcapng files (several merged in capture-time order, "-" for
 * stdin) and live interfaces, all with nanosecond timestamps (SPEC sections 1, 2, 4 and 8).
 *
 * Specs: libpcap's pcap_next_ex(3PCAP), pcap_open_offline(3PCAP), pcap_create(3PCAP) and
 * pcap-tstamp(7); the file formats themselves are libpcap's business.
 *
 * Limits: at most CT_CAPTURE_MAX_FILES files are merged (each holds an open descriptor and a
 * libpcap read buffer until it ends); describe() text is cut to CT_CAPTURE_DESCRIBE_BYTES.
 * A file that ends inside a record yields the frames before it and is counted in
 * truncated_files; any other read error is counted in read_errors; both are logged once on
 * stderr and the other files go on. Nothing is copied: a frame points into libpcap's buffer. */
#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cachetap/capture.h"
#include "cachetap/limits.h"

/* One FILE operand. Its head packet (hdr, data) stays valid until this file is advanced,
 * which is what lets the merge hand out frames without copying them. */
struct pfile {
	pcap_t *p;        /* NULL once the file has ended */
	const char *name; /* the operand as given (the caller's string) */
	int dlt;
	uint64_t ts_ns;   /* head packet's time */
	struct pcap_pkthdr *hdr;
	const u_char *data;
};

struct psrc {
	struct ct_source base;
	atomic_int stop; /* set by brk(), from another thread or a signal handler (lock-free) */

	/* Offline: files and a binary min-heap of the indices of files that have a head packet,
	 * ordered by (ts_ns, file index) so equal times keep operand order. */
	struct pfile *files;
	uint32_t nfiles;
	uint32_t *heap;
	uint32_t nheap;
	int64_t last; /* file whose head was returned last; advanced on the next call */

	/* Live. */
	pcap_t *live;
	int live_dlt;
	int live_nano; /* 0: the device gave microseconds, scaled to ns */
	int live_fd;   /* pollable descriptor of the non-blocking handle, or -1 */
	struct pcap_stat ps_last; /* last pcap_stats(), to widen its 32-bit counters */
	int have_ps;

	struct ct_source_stats st;
	char desc[CT_CAPTURE_DESCRIBE_BYTES];
};

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen,
							  const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* libpcap often starts its message with the file name already ("x.pcap: No such file");
 * drop that so our "cachetap: x.pcap: " prefix does not say it twice. */
static const char *strip_name(const char *msg, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(msg, name, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
		return msg + n + 2;
	return msg;
}

static uint64_t ts_to_ns(const struct timeval *tv, int nano)
{
	/* pcap stores seconds as an unsigned 32-bit field but libpcap hands them over through
	 * a signed 32-bit one, so times after January 2038 arrive negative: take them back as
	 * unsigned (good until 2106). Anything more negative cannot come from a file. */
	uint64_t sec = tv->tv_sec >= 0 ? (uint64_t)tv->tv_sec
		       : tv->tv_sec >= INT32_MIN ? (uint64_t)(uint32_t)(int32_t)tv->tv_sec : 0;
	uint64_t frac = tv->tv_usec < 0 ? 0 : (uint64_t)tv->tv_usec;

	return sec * 1000000000ull + (nano ? frac : frac * 1000ull);
}

/* Builds "KIND:a,b,c" into the describe buffer; a list that does not fit ends with the part
 * that does and "... (+N more)". */
static void build_desc(struct psrc *s, const char *kind, const char *const *names, uint32_t n)
{
	enum { SUFFIX_MAX = 24 }; /* ",... (+4294967295 more)" and its NUL */
	char *d = s->desc;
	size_t cap = sizeof s->desc;
	int w = snprintf(d, cap, "%s:", kind);
	size_t pos = w < 0 ? 0 : (size_t)w;

	for (uint32_t i = 0; i < n; i++) {
		const char *sep = i ? "," : "";
		size_t len = strlen(names[i]) + strlen(sep);
		size_t room = cap - 1 - pos;
		size_t reserve = i + 1 < n ? SUFFIX_MAX : 0;

		if (len + reserve <= room) {
			snprintf(d + pos, cap - pos, "%s%s", sep, names[i]);
			pos += len;
			continue;
		}
		/* Show as much of this name as fits, then how many operands are left out. */
		size_t keep = room > SUFFIX_MAX + 1 ? room - SUFFIX_MAX - 1 : 0;
		if (n - i - 1 > 0)
			snprintf(d + pos, cap - pos, "%s%.*s... (+%u more)", sep, (int)keep, names[i],
				 (unsigned)(n - i - 1));
		else
			snprintf(d + pos, cap - pos, "%s%.*s...", sep, (int)keep, names[i]);
		return;
	}
}

/* ---- offline ---- */

static int heap_less(const struct psrc *s, uint32_t a, uint32_t b)
{
	if (s->files[a].ts_ns != s->files[b].ts_ns)
		return s->files[a].ts_ns < s->files[b].ts_ns;
	return a < b;
}

static void heap_push(struct psrc *s, uint32_t f)
{
	uint32_t i = s->nheap++;

	s->heap[i] = f;
	while (i > 0) {
		uint32_t up = (i - 1) / 2;
		if (!heap_less(s, s->heap[i], s->heap[up]))
			break;
		uint32_t t = s->heap[i];
		s->heap[i] = s->heap[up];
		s->heap[up] = t;
		i = up;
	}
}

static void heap_sift_down(struct psrc *s, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < s->nheap && heap_less(s, s->heap[l], s->heap[m]))
			m = l;
		if (r < s->nheap && heap_less(s, s->heap[r], s->heap[m]))
			m = r;
		if (m == i)
			return;
		uint32_t t = s->heap[i];
		s->heap[i] = s->heap[m];
		s->heap[m] = t;
		i = m;
	}
}

static void heap_pop(struct psrc *s)
{
	s->heap[0] = s->heap[--s->nheap];
	if (s->nheap)
		heap_sift_down(s, 0);
}

/* Reads file fi's next packet into its head. Returns 1 when there is one, 0 when the file
 * has ended (cleanly or not); the file is closed then, to give back its buffer and fd. */
static int file_advance(struct psrc *s, uint32_t fi)
{
	struct pfile *f = &s->files[fi];
	int r;

	if (!f->p)
		return 0;
	r = pcap_next_ex(f->p, &f->hdr, &f->data);
	if (r == 1) {
		f->ts_ns = ts_to_ns(&f->hdr->ts, 1);
		return 1;
	}
	if (r == PCAP_ERROR && !s->stop) {
		/* (A stop signal interrupts a read from a pipe: that read failing is the stop, not
		 * an error of the input.)
		 * libpcap has no code for "ended inside a record"; its message says "truncated"
		 * for both pcap ("truncated dump file") and pcapng ("truncated pcapng dump
		 * file"). Both kinds end the file but not the run (SPEC section 8). */
		const char *msg = pcap_geterr(f->p);
		if (strstr(msg, "truncated"))
			s->st.truncated_files++;
		else
			s->st.read_errors++;
		fprintf(stderr, "cachetap: %s: %s; keeping the frames before it\n", f->name,
			strip_name(msg, f->name));
	}
	/* PCAP_ERROR_BREAK is the end of the file; 0 (a timeout) cannot happen offline. */
	pcap_close(f->p);
	f->p = NULL;
	f->hdr = NULL;
	f->data = NULL;
	return 0;
}

static int files_next(struct ct_source *base, struct ct_frame *fr)
{
	struct psrc *s = (struct psrc *)base;

	if (s->stop)
		return 0;
	/* The frame handed out last call lived in its file's buffer; only now may that file
	 * move on. It was popped from the heap then, so it goes back in if it has more. */
	if (s->last >= 0) {
		uint32_t fi = (uint32_t)s->last;
		s->last = -1;
		if (file_advance(s, fi))
			heap_push(s, fi);
	}
	if (s->nheap == 0)
		return 0;

	uint32_t fi = s->heap[0];
	struct pfile *f = &s->files[fi];
	heap_pop(s);
	s->last = fi;

	fr->ts_ns = f->ts_ns;
	fr->dlt = f->dlt;
	fr->caplen = f->hdr->caplen;
	fr->wirelen = f->hdr->len;
	fr->data = f->data;
	fr->file_index = fi;
	s->st.frames++;
	s->st.bytes += f->hdr->caplen;
	return 1;
}

static void files_stats(struct ct_source *base, struct ct_source_stats *st)
{
	*st = ((struct psrc *)base)->st;
}

static void src_brk(struct ct_source *base)
{
	struct psrc *s = (struct psrc *)base;

	/* Only async-signal-safe work here: a flag store, and for live handles
	 * pcap_breakloop(), which sets a flag and (Linux) writes to an eventfd. */
	s->stop = 1;
	if (s->live)
		pcap_breakloop(s->live);
}

static const char *src_describe(struct ct_source *base)
{
	return ((struct psrc *)base)->desc;
}

static void src_close(struct ct_source *base)
{
	struct psrc *s = (struct psrc *)base;

	if (!s)
		return;
	for (uint32_t i = 0; s->files && i < s->nfiles; i++)
		if (s->files[i].p)
			pcap_close(s->files[i].p);
	if (s->live)
		pcap_close(s->live);
	ct_free(s->files);
	ct_free(s->heap);
	ct_free(s);
}

static const struct ct_source_ops files_ops = {
	.next = files_next,
	.stats = files_stats,
	.brk = src_brk,
	.close = src_close,
	.describe = src_describe,
};

/* Compiles and installs a BPF filter on p; `what` names the file or interface. */
static int apply_bpf(pcap_t *p, const char *bpf, const char *what, char *err, size_t errlen)
{
	struct bpf_program prog;

	if (!bpf || !bpf[0])
		return 0;
	if (pcap_compile(p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		set_err(err, errlen, "%s: bad filter \"%s\": %s", what, bpf,
			pcap_geterr(p));
		return CT_EINVAL;
	}
	int r = pcap_setfilter(p, &prog);
	pcap_freecode(&prog);
	if (r < 0) {
		set_err(err, errlen, "%s: cannot apply filter \"%s\": %s", what, bpf,
			pcap_geterr(p));
		return CT_EPCAP;
	}
	return 0;
}

/* Some writers put a little-endian pcap magic in front of a big-endian version (the
 * deepflow memcached-userdata.pcap capture says 512.1024 for 2.4). libpcap refuses such a
 * file while Wireshark reads it, so we repair the version in a copy of the file header and
 * let libpcap read the rest unchanged through a stdio cookie stream.
 *
 *   +-----------+-----------+-----------+---------------------+-------------+--------------+
 *   | magic (4) | major (2) | minor (2) | zone, sigfigs (4+4) | snaplen (4) | linktype (4) |
 *   +-----------+-----------+-----------+---------------------+-------------+--------------+
 *
 * Only the pcap header (24 bytes) is looked at; pcapng is passed through untouched. */
enum { PCAP_FILE_HDR_BYTES = 24 };

struct hdrfix {
	FILE *under;
	unsigned char head[PCAP_FILE_HDR_BYTES];
	size_t head_len, head_pos;
};

static ssize_t hdrfix_read(void *cookie, char *buf, size_t n)
{
	struct hdrfix *x = cookie;
	size_t done = 0;

	if (x->head_pos < x->head_len) {
		done = x->head_len - x->head_pos < n ? x->head_len - x->head_pos : n;
		memcpy(buf, x->head + x->head_pos, done);
		x->head_pos += done;
	}
	if (done < n) {
		size_t k = fread(buf + done, 1, n - done, x->under);
		if (k == 0 && done == 0 && ferror(x->under))
			return -1;
		done += k;
	}
	return (ssize_t)done;
}

static int hdrfix_close(void *cookie)
{
	struct hdrfix *x = cookie;
	int r = fclose(x->under);

	ct_free(x);
	return r;
}

/* Swaps a byte-swapped 2.x version back. Returns 1 when it changed the header. */
static int repair_version(unsigned char *h, size_t n)
{
	if (n < 8)
		return 0;
	uint32_t m = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	int le;
	if (m == 0xa1b2c3d4u || m == 0xa1b23c4du)
		le = 0;
	else if (m == 0xd4c3b2a1u || m == 0x4d3cb2a1u)
		le = 1;
	else
		return 0;
	unsigned major = le ? (unsigned)h[4] | (unsigned)h[5] << 8 : (unsigned)h[4] << 8 | h[5];
	unsigned minor = le ? (unsigned)h[6] | (unsigned)h[7] << 8 : (unsigned)h[6] << 8 | h[7];
	if (major != 0x0200 || (minor & 0x00ff) != 0 || (minor >> 8) > 4)
		return 0;
	unsigned char t = h[4];
	h[4] = h[5];
	h[5] = t;
	t = h[6];
	h[6] = h[7];
	h[7] = t;
	return 1;
}

/* Wraps `under` (taking it over, also on failure) in a stream that serves a repaired header.
 * *repaired says whether the header needed it. */
static FILE *hdrfix_open(FILE *under, int *repaired)
{
	static const cookie_io_functions_t io = { .read = hdrfix_read, .close = hdrfix_close };
	struct hdrfix *x = ct_calloc(1, sizeof *x);
	FILE *fp;

	if (!x) {
		fclose(under);
		return NULL;
	}
	x->under = under;
	x->head_len = fread(x->head, 1, sizeof x->head, under);
	*repaired = repair_version(x->head, x->head_len);
	fp = fopencookie(x, "rb", io);
	if (!fp)
		hdrfix_close(x);
	return fp;
}

/* Opens a stream through the header repair and hands it to libpcap. */
static pcap_t *open_stream(FILE *under, const char *path, char *eb, int *nomem)
{
	int repaired = 0;
	FILE *fp = hdrfix_open(under, &repaired);
	pcap_t *p;

	if (!fp) {
		snprintf(eb, PCAP_ERRBUF_SIZE, "%s", "out of memory");
		*nomem = 1;
		return NULL;
	}
	p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, eb);
	if (!p)
		fclose(fp); /* on failure libpcap leaves the stream to us */
	else if (repaired)
		fprintf(stderr, "cachetap: %s: pcap header has a byte-swapped version; "
				"read as 2.4\n", path);
	return p;
}

static int open_file(struct pfile *f, const char *path, const char *bpf, char *err,
		     size_t errlen)
{
	char eb[PCAP_ERRBUF_SIZE] = "";
	int nomem = 0;

	f->name = path;
	if (strcmp(path, "-") == 0) {
		/* Read a duplicate of fd 0, so pcap_close() does not close the process's stdin.
		 * A pipe cannot be read twice, so stdin always goes through the header repair. */
		int fd = dup(0);
		FILE *fp = fd < 0 ? NULL : fdopen(fd, "rb");
		if (!fp) {
			set_err(err, errlen, "-: cannot read standard input: %s",
				strerror(errno));
			if (fd >= 0)
				close(fd);
			return CT_EIO;
		}
		f->p = open_stream(fp, path, eb, &nomem);
	} else {
		f->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
		if (!f->p && strstr(eb, "unsupported pcap savefile version")) {
			char eb2[PCAP_ERRBUF_SIZE] = "";
			FILE *fp = fopen(path, "rb");
			int repaired = 0;
			if (fp) {
				unsigned char h[PCAP_FILE_HDR_BYTES];
				size_t n = fread(h, 1, sizeof h, fp);
				repaired = repair_version(h, n);
				rewind(fp);
				if (repaired)
					f->p = open_stream(fp, path, eb2, &nomem);
				else
					fclose(fp);
			}
			if (repaired && !f->p)
				memcpy(eb, eb2, sizeof eb);
		}
	}
	if (!f->p) {
		set_err(err, errlen, "%s: %s", path,
			eb[0] ? strip_name(eb, path) : "cannot open");
		return nomem ? CT_ENOMEM : CT_EPCAP;
	}
	f->dlt = pcap_datalink(f->p);
	return apply_bpf(f->p, bpf, path, err, errlen);
}

int ct_source_open_files(struct ct_source **out, const char *const *paths, uint32_t n,
			 const char *bpf, char *err, size_t errlen)
{
	struct psrc *s = NULL;
	uint32_t nstdin = 0;
	int r;

	*out = NULL;
	set_err(err, errlen, "%s", "");
	if (n == 0 || !paths) {
		set_err(err, errlen, "no input files");
		return CT_EINVAL;
	}
	if (n > CT_CAPTURE_MAX_FILES) {
		set_err(err, errlen, "%u input files, at most %u are merged", (unsigned)n,
			(unsigned)CT_CAPTURE_MAX_FILES);
		return CT_ELIMIT;
	}
	for (uint32_t i = 0; i < n; i++)
		nstdin += strcmp(paths[i], "-") == 0;
	if (nstdin > 1) {
		set_err(err, errlen, "-: standard input given more than once");
		return CT_EINVAL;
	}

	s = ct_calloc(1, sizeof *s);
	if (!s)
		goto nomem;
	s->base.ops = &files_ops;
	s->last = -1;
	s->files = ct_calloc(n, sizeof *s->files);
	s->heap = ct_calloc(n, sizeof *s->heap);
	if (!s->files || !s->heap)
		goto nomem;
	s->nfiles = n;
	for (uint32_t i = 0; i < n; i++) {
		r = open_file(&s->files[i], paths[i], bpf, err, errlen);
		if (r < 0)
			goto fail;
	}
	build_desc(s, "file", paths, n);
	/* Prime the merge with each file's first packet. */
	for (uint32_t i = 0; i < n; i++)
		if (file_advance(s, i))
			heap_push(s, i);
	*out = &s->base;
	return 0;

nomem:
	set_err(err, errlen, "out of memory opening %u input files", (unsigned)n);
	r = CT_ENOMEM;
fail:
	if (s)
		src_close(&s->base);
	return r;
}

/* ---- live ---- */

static int live_next(struct ct_source *base, struct ct_frame *fr)
{
	struct psrc *s = (struct psrc *)base;
	struct pcap_pkthdr *h;
	const u_char *d;

	if (s->stop)
		return 0;
	int r = pcap_next_ex(s->live, &h, &d);
	if (r == 0 && s->live_fd >= 0) {
		/* Nothing buffered: wait up to the timeout ourselves. A signal ends the wait
		 * early (poll() is never restarted), which is how brk() from a handler gets
		 * noticed at once. */
		struct pollfd pfd = { .fd = s->live_fd, .events = POLLIN };
		int pr = poll(&pfd, 1, CT_CAPTURE_TIMEOUT_MS);
		if (s->stop)
			return 0;
		if (pr < 0 && errno != EINTR) {
			s->st.read_errors++;
			fprintf(stderr, "cachetap: %s: poll: %s\n", s->desc, strerror(errno));
			return CT_EIO;
		}
		if (pr <= 0)
			return CT_SOURCE_IDLE;
		r = pcap_next_ex(s->live, &h, &d);
	}
	if (r == 1) {
		fr->ts_ns = ts_to_ns(&h->ts, s->live_nano);
		fr->dlt = s->live_dlt;
		fr->caplen = h->caplen;
		fr->wirelen = h->len;
		fr->data = d;
		fr->file_index = 0;
		s->st.frames++;
		s->st.bytes += h->caplen;
		return 1;
	}
	if (r == 0)
		return s->stop ? 0 : CT_SOURCE_IDLE; /* read timeout: let the caller look up */
	if (r == PCAP_ERROR_BREAK)
		return 0;
	s->st.read_errors++;
	fprintf(stderr, "cachetap: %s: %s\n", s->desc, pcap_geterr(s->live));
	return CT_EPCAP;
}

/* pcap_stats() counters are 32-bit and wrap on a busy link; add the difference since the
 * last call (mod 2^32) to 64-bit totals instead of copying them. */
static void live_stats(struct ct_source *base, struct ct_source_stats *st)
{
	struct psrc *s = (struct psrc *)base;
	struct pcap_stat ps;

	if (pcap_stats(s->live, &ps) == 0) {
		struct pcap_stat prev = s->have_ps ? s->ps_last : (struct pcap_stat){ 0, 0, 0 };
		s->st.kernel_recv += (uint32_t)(ps.ps_recv - prev.ps_recv);
		s->st.kernel_drops += (uint32_t)(ps.ps_drop - prev.ps_drop);
		s->st.iface_drops += (uint32_t)(ps.ps_ifdrop - prev.ps_ifdrop);
		s->ps_last = ps;
		s->have_ps = 1;
	}
	*st = s->st;
}

static const struct ct_source_ops live_ops = {
	.next = live_next,
	.stats = live_stats,
	.brk = src_brk,
	.close = src_close,
	.describe = src_describe,
};

/* "IFACE: <what libpcap says>", using the status text when pcap_geterr() has nothing. */
static void live_err(char *err, size_t errlen, const char *iface, pcap_t *p, int status,
		     const char *what)
{
	const char *detail = p ? strip_name(pcap_geterr(p), iface) : "";
	const char *status_text = pcap_statustostr(status);

	if (detail && detail[0] && strcmp(detail, status_text) != 0)
		set_err(err, errlen, "%s: %s%s (%s)", iface, what, status_text, detail);
	else
		set_err(err, errlen, "%s: %s%s", iface, what, status_text);
}

int ct_source_open_live(struct ct_source **out, const struct ct_live_opts *o, char *err,
			size_t errlen)
{
	char eb[PCAP_ERRBUF_SIZE] = "";
	struct psrc *s = NULL;
	uint32_t snaplen, bufsz;
	int r;

	*out = NULL;
	set_err(err, errlen, "%s", "");
	if (!o || !o->iface || !o->iface[0]) {
		set_err(err, errlen, "no interface given");
		return CT_EINVAL;
	}
	snaplen = o->snaplen ? o->snaplen : CT_CAPTURE_SNAPLEN_BYTES_DEFAULT;
	bufsz = o->buffer_bytes ? o->buffer_bytes : CT_CAPTURE_BUFFER_BYTES_DEFAULT;
	if (bufsz < CT_CAPTURE_BUFFER_BYTES_MIN) {
		set_err(err, errlen, "%s: buffer of %u bytes is below the minimum %u",
			o->iface, (unsigned)bufsz, (unsigned)CT_CAPTURE_BUFFER_BYTES_MIN);
		return CT_EINVAL;
	}
	if (snaplen > INT32_MAX || bufsz > INT32_MAX) {
		set_err(err, errlen, "%s: snaplen or buffer size too large", o->iface);
		return CT_EINVAL;
	}

	s = ct_calloc(1, sizeof *s);
	if (!s) {
		set_err(err, errlen, "%s: out of memory", o->iface);
		return CT_ENOMEM;
	}
	s->base.ops = &live_ops;
	s->last = -1;
	s->live = pcap_create(o->iface, eb);
	if (!s->live) {
		set_err(err, errlen, "%s: %s", o->iface,
			eb[0] ? strip_name(eb, o->iface) : "cannot open");
		r = CT_EPCAP;
		goto fail;
	}
	/* These only fail on an already-activated handle, which this is not. */
	(void)pcap_set_snaplen(s->live, (int)snaplen);
	(void)pcap_set_buffer_size(s->live, (int)bufsz);
	(void)pcap_set_timeout(s->live, CT_CAPTURE_TIMEOUT_MS);
	(void)pcap_set_promisc(s->live, o->promisc ? 1 : 0);
	/* Not every device can do nanoseconds; then we get microseconds and scale them. */
	(void)pcap_set_tstamp_precision(s->live, PCAP_TSTAMP_PRECISION_NANO);

	int st = pcap_activate(s->live);
	if (st < 0) {
		live_err(err, errlen, o->iface, s->live, st, "");
		r = CT_EPCAP;
		goto fail;
	}
	if (st > 0)
		live_err(err, errlen, o->iface, s->live, st, "warning: ");
	s->live_nano = pcap_get_tstamp_precision(s->live) == PCAP_TSTAMP_PRECISION_NANO;
	/* The read timeout alone cannot promise CT_SOURCE_IDLE: on Linux (TPACKET_V3) its timer
	 * only runs once a packet has arrived, so a quiet interface would block next() forever
	 * and --duration would never be checked. So the handle is non-blocking and next() polls
	 * its descriptor with CT_CAPTURE_TIMEOUT_MS; where there is no such descriptor we fall
	 * back to the blocking read and its timeout. */
	s->live_fd = -1;
	if (pcap_setnonblock(s->live, 1, eb) == 0)
		s->live_fd = pcap_get_selectable_fd(s->live);
	if (s->live_fd < 0)
		(void)pcap_setnonblock(s->live, 0, eb);
	s->live_dlt = pcap_datalink(s->live);
	r = apply_bpf(s->live, o->bpf, o->iface, err, errlen);
	if (r < 0)
		goto fail;
	build_desc(s, "live", &o->iface, 1);
	*out = &s->base;
	return 0;

fail:
	src_close(&s->base);
	return r;
}
