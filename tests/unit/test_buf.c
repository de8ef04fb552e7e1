/* Unit tests for src/buf.c: growth, the NUL after the bytes, printf of any length, the cap
 * (CT_ELIMIT, nothing half-added), and a failed allocation (CT_ENOMEM, buffer unchanged). */
#include <string.h>

#include "cachetap/buf.h"
#include "tap.h"

int main(void)
{
	struct ct_buf b = { 0 };
	is_str(ct_buf_str(&b), "", "an empty buffer reads as \"\"");
	is_int(ct_buf_add(&b, "abc", 3), 0, "add");
	is_int(ct_buf_add(&b, "", 0), 0, "add nothing");
	is_str(ct_buf_str(&b), "abc", "bytes are followed by a NUL");
	is_int(ct_buf_printf(&b, "-%d-%s", 42, "x"), 0, "printf");
	is_str(ct_buf_str(&b), "abc-42-x", "printf appends");
	char big[5000];
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = 0;
	is_int(ct_buf_printf(&b, "%s", big), 0, "printf longer than any first guess");
	is_int(b.len, 8 + 4999, "length after a long printf");
	ok(b.p[b.len] == 0 && b.cap > b.len, "still NUL-terminated within its allocation");
	ct_buf_free(&b);
	ok(b.p == NULL && b.len == 0 && b.cap == 0, "free empties it");

	struct ct_buf capped = { .max = 10 };
	is_int(ct_buf_add(&capped, "0123456789", 10), 0, "up to the cap");
	is_int(ct_buf_add(&capped, "x", 1), CT_ELIMIT, "one byte past the cap is refused");
	is_int(ct_buf_printf(&capped, "%s", "y"), CT_ELIMIT, "so is a printf past it");
	is_str(ct_buf_str(&capped), "0123456789", "nothing was half-added");
	is_int(ct_buf_add(&capped, "x", SIZE_MAX), CT_ELIMIT, "a huge length cannot overflow the check");
	ct_buf_free(&capped);

	struct ct_buf f = { 0 };
	ct_alloc_fail_at(1);
	is_int(ct_buf_add(&f, "abc", 3), CT_ENOMEM, "a failed allocation is reported");
	ct_alloc_fail_at(0);
	ok(f.p == NULL && f.len == 0, "and leaves the buffer as it was");
	is_int(ct_buf_add(&f, "abc", 3), 0, "and the next add works");
	ct_buf_free(&f);
	return done_testing();
}
