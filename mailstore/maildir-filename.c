/* maildir-filename.c - Maildir file names as Dovecot writes them:
 *   <sec>.M<usec>P<pid>.<host>,S=<size>,W=<vsize>:2,<flags><keywords>
 * Flags sorted: D Draft, F Flagged, P passed, R Answered, S Seen,
 * T Deleted; then keyword letters a..z (dovecot-keywords indexes). */
#include "maildir-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <unistd.h>

char *maildir_filename_key(const char *fname)
{
	const char *colon = strchr(fname, ':');

	return colon == NULL ? i_strdup(fname) :
		i_strndup(fname, (size_t)(colon - fname));
}

void maildir_filename_flags(const char *fname, enum mail_flags *flags_r,
			    const char **kw_letters_r)
{
	const char *p = strstr(fname, ":2,");
	enum mail_flags flags = 0;

	*kw_letters_r = "";
	if (p == NULL) {
		*flags_r = 0;
		return;
	}
	for (p += 3; *p != '\0'; p++) {
		switch (*p) {
		case 'D': flags |= MAIL_DRAFT; break;
		case 'F': flags |= MAIL_FLAGGED; break;
		case 'R': flags |= MAIL_ANSWERED; break;
		case 'S': flags |= MAIL_SEEN; break;
		case 'T': flags |= MAIL_DELETED; break;
		default:
			if (*p >= 'a' && *p <= 'z' && **kw_letters_r == '\0')
				*kw_letters_r = p;
			break;
		}
	}
	*flags_r = flags;
}

bool maildir_filename_size(const char *fname, char type, uint64_t *size_r)
{
	const char *p = fname;
	char *end;

	while ((p = strchr(p, ',')) != NULL) {
		p++;
		if (*p == ':')
			break;
		if (p[0] == type && p[1] == '=' && p[2] >= '0' && p[2] <= '9') {
			unsigned long long v = strtoull(p + 2, &end, 10);
			if (*end == ',' || *end == ':' || *end == '\0') {
				*size_r = v;
				return true;
			}
		}
	}
	return false;
}

char *maildir_filename_generate(void)
{
	static unsigned int counter;
	char host[256];
	struct timeval tv;
	string_t *str = str_new(64);

	if (gethostname(host, sizeof(host)) < 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	gettimeofday(&tv, NULL);
	str_printfa(str, "%ld.M%ldP%ld", (long)tv.tv_sec, (long)tv.tv_usec,
		    (long)getpid());
	/* several saves in one microsecond get a Q counter, as Dovecot */
	if (++counter > 1)
		str_printfa(str, "Q%u", counter);
	str_append_c(str, '.');
	for (const char *p = host; *p != '\0'; p++) {
		if (*p == '/')
			str_append(str, "\\057");
		else if (*p == ':')
			str_append(str, "\\072");
		else
			str_append_c(str, *p);
	}
	return str_free_without_data(&str);
}

char *maildir_filename_with_flags(struct maildir_mailbox *mbox,
				  const char *key, const struct mail_record *rec)
{
	char letters[MAILDIR_MAX_KEYWORD_LETTERS + 1];
	unsigned int n = 0;
	string_t *str = str_new(strlen(key) + 16);
	const char *old_flags;

	str_append(str, key);
	str_append(str, ":2,");
	if ((rec->flags & MAIL_DRAFT) != 0) str_append_c(str, 'D');
	if ((rec->flags & MAIL_FLAGGED) != 0) str_append_c(str, 'F');
	/* 'P' (passed) isn't an IMAP flag: keep it if the file had it */
	old_flags = rec->name == NULL ? NULL : strstr(rec->name, ":2,");
	if (old_flags != NULL && strchr(old_flags + 3, 'P') != NULL)
		str_append_c(str, 'P');
	if ((rec->flags & MAIL_ANSWERED) != 0) str_append_c(str, 'R');
	if ((rec->flags & MAIL_SEEN) != 0) str_append_c(str, 'S');
	if ((rec->flags & MAIL_DELETED) != 0) str_append_c(str, 'T');
	for (unsigned int i = 0; i < mbox->box.kw_words * 32; i++) {
		if (!mail_record_has_kw(rec, i))
			continue;
		int letter = maildir_keywords_letter(mbox, i);
		if (letter >= 0 && n < MAILDIR_MAX_KEYWORD_LETTERS)
			letters[n++] = (char)('a' + letter);
	}
	/* letters sorted */
	for (unsigned int i = 1; i < n; i++) {
		for (unsigned int j = i; j > 0 && letters[j - 1] > letters[j]; j--) {
			char c = letters[j];
			letters[j] = letters[j - 1];
			letters[j - 1] = c;
		}
	}
	str_append_n(str, letters, n);
	return str_free_without_data(&str);
}
