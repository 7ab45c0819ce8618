/* fuzz_mbox.c - libFuzzer harness for the mbox scanner and the Dovecot
 * header code: the input is an mbox file image. Every message found is
 * exported as FETCH would see it and its Dovecot headers are rebuilt (in
 * place and grown), and the scanner's invariants are checked: messages
 * tile the file, offsets are ordered, the exported size is the one the
 * scan computed. */
#include "lib.h"
#include "str.h"
#include "mbox-private.h"

#include <stdlib.h>

static void check(bool cond)
{
	if (!cond)
		abort();
}

static void fuzz_message(const unsigned char *data, size_t size,
			 const struct mbox_scan *scan, const struct mbox_msg *m)
{
	string_t *str = str_new(256);
	struct mbox_hdr_state st;
	size_t hdr_len = m->hdr_end - m->hdr_offset;

	check(m->from_offset < m->hdr_offset || m->hdr_offset == size);
	check(m->hdr_offset <= m->hdr_end && m->hdr_end <= size);
	check(m->msg_end <= m->next_offset && m->next_offset <= size);
	check(m->msg_end >= m->hdr_offset || m->hdr_offset == size);
	mbox_msg_export(data, m, str);
	check(str_len(str) == m->size);
	{
		/* the CRLF size counted without copying matches the copy */
		uint64_t vsize = str_len(str);

		for (size_t i = 0; i < str_len(str); i++) {
			if (str_c(str)[i] == '\n' &&
			    (i == 0 || str_c(str)[i - 1] != '\r'))
				vsize++;
		}
		check(vsize == mbox_msg_vsize(data, m));
	}
	check(m->kw_first + m->kw_count <= scan->kw_names.count);

	memset(&st, 0, sizeof(st));
	st.uid = m->uid != 0 ? m->uid : 1;
	st.flags = m->flags;
	st.nonrecent = m->nonrecent;
	st.pseudo = m->pseudo;
	st.keywords = (const char *const *)scan->kw_names.v + m->kw_first;
	st.keywords_count = m->kw_count;
	st.base = m == &scan->msgs.v[0];
	st.uidvalidity = scan->base_uidvalidity + 1;
	st.last_uid = scan->base_last_uid;
	st.base_keywords = (const char *const *)scan->base_keywords.v;
	st.base_keywords_count = (unsigned int)scan->base_keywords.count;
	st.body_size = m->msg_end > m->hdr_end ? m->msg_end - m->hdr_end : 0;
	st.eol = m->crlf ? "\r\n" : "\n";
	str_clear(str);
	if (hdr_len > 0 &&
	    mbox_header_rebuild(str, data + m->hdr_offset, hdr_len,
				m->has_eoh, &st, hdr_len))
		check(str_len(str) == hdr_len);
	else
		check(str_len(str) == 0);
	str_clear(str);
	check(mbox_header_rebuild(str, data + m->hdr_offset, hdr_len,
				  m->has_eoh, &st, 0));
	str_free(&str);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mbox_scan scan;
	const char *error;
	uint64_t pos = 0;

	mbox_scan_init(&scan);
	if (mbox_scan_buffer(data, size, &scan, &error) == 0) {
		for (size_t i = 0; i < scan.msgs.count; i++) {
			const struct mbox_msg *m = &scan.msgs.v[i];

			check(m->from_offset == pos);
			pos = m->next_offset;
			fuzz_message(data, size, &scan, m);
			(void)mbox_scan_find_uid(&scan, m->uid);
		}
		check(scan.msgs.count == 0 || pos == size);
	}
	mbox_scan_free(&scan);
	return 0;
}
