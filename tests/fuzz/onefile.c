/* onefile: replays fuzz inputs through a target's LLVMFuzzerTestOneInput without libFuzzer,
 * so the committed corpus and every past crash run in `make check` with the normal compiler
 * (and under ASan+UBSan in the sanitizer build). After libpcap's testprogs/fuzz/onefile.c.
 *
 *   onefile PATH...   each PATH is a file, or a directory whose files are replayed in name
 *                     order (names starting with '.' and README* are skipped; a directory
 *                     that does not exist is skipped, so a target with no past crash needs
 *                     no empty regress directory)
 *
 * Prints one line per PATH ("PATH: N inputs") and exits 0 when every input ran. A broken
 * invariant aborts (fuzz.h FZ_CHECK), a sanitizer report exits non-zero: either fails the test.
 * Limits: an input larger than ONEFILE_MAX_BYTES is refused (exit 1). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define ONEFILE_MAX_BYTES (16u << 20) /* one input file */

/* Runs one file through the target. Returns 0, or -1 when it cannot be read. */
static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "onefile: %s: %s\n", path, strerror(errno));
		return -1;
	}
	struct stat sb;
	if (fstat(fileno(f), &sb) != 0 || sb.st_size < 0 || (uint64_t)sb.st_size > ONEFILE_MAX_BYTES) {
		fprintf(stderr, "onefile: %s: not a regular file of at most %u bytes\n", path,
			ONEFILE_MAX_BYTES);
		fclose(f);
		return -1;
	}
	size_t len = (size_t)sb.st_size;
	/* An exact-size copy (never 0 bytes), so an over-read is caught by ASan. */
	uint8_t *buf = ct_malloc(len ? len : 1);
	if (!buf || fread(buf, 1, len, f) != len) {
		fprintf(stderr, "onefile: %s: cannot read\n", path);
		ct_free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	if (getenv("ONEFILE_VERBOSE"))
		fprintf(stderr, "onefile: running %s (%zu bytes)\n", path, len);
	LLVMFuzzerTestOneInput(buf, len);
	ct_free(buf);
	return 0;
}

static int skip_name(const struct dirent *e)
{
	return e->d_name[0] != '.' && strncmp(e->d_name, "README", 6) != 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: onefile FILE|DIR...\n");
		return 2;
	}
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		struct stat sb;
		if (stat(argv[i], &sb) != 0) {
			if (errno == ENOENT) {
				printf("%s: 0 inputs (no such directory)\n", argv[i]);
				continue;
			}
			fprintf(stderr, "onefile: %s: %s\n", argv[i], strerror(errno));
			rc = 1;
			continue;
		}
		if (!S_ISDIR(sb.st_mode)) {
			if (run_file(argv[i]) != 0)
				rc = 1;
			printf("%s: 1 inputs\n", argv[i]);
			continue;
		}
		struct dirent **list = NULL;
		int n = scandir(argv[i], &list, skip_name, alphasort);
		if (n < 0) {
			fprintf(stderr, "onefile: %s: %s\n", argv[i], strerror(errno));
			rc = 1;
			continue;
		}
		int ran = 0;
		for (int k = 0; k < n; k++) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", argv[i], list[k]->d_name);
			struct stat fs;
			if (stat(path, &fs) == 0 && S_ISREG(fs.st_mode)) {
				if (run_file(path) != 0)
					rc = 1;
				else
					ran++;
			}
			free(list[k]); /* scandir's own allocations */
		}
		free(list);
		printf("%s: %d inputs\n", argv[i], ran);
	}
	return rc;
}
