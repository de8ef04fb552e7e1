/* The benchmark floor: the plainest libpcap read loop over a file, touching each frame's
 * bytes once. cachetap's replay throughput is reported as a ratio to this (make bench).
 *
 * usage: pcapfloor FILE */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	if (argc != 2) {
		fprintf(stderr, "usage: pcapfloor FILE\n");
		return 2;
	}
	pcap_t *p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
	if (!p) {
		fprintf(stderr, "pcapfloor: %s\n", err);
		return 2;
	}
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t frames = 0, bytes = 0, sum = 0;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		frames++;
		bytes += h->caplen;
		/* One read per frame, as any decoder makes at least: keeps the loop honest. */
		if (h->caplen)
			sum += data[h->caplen - 1];
	}
	pcap_close(p);
	printf("frames=%" PRIu64 " bytes=%" PRIu64 " check=%" PRIu64 "\n", frames, bytes, sum);
	return rc == PCAP_ERROR ? 1 : 0;
}
