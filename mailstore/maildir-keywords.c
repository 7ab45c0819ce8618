/* maildir-keywords.c - dovecot-keywords: "<index> <name>" lines giving
 * the keyword behind each file name letter ('a' = 0 ... 'z' = 25).
 * Dovecot reads and writes the same file; new keywords are appended at
 * the first free index. */
#include "maildir-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *keywords_path(struct maildir_mailbox *mbox)
{
	return p_strdup_printf(mbox->box.pool, "%s/" MAILDIR_KEYWORDS_NAME,
			       mbox->box.control_path);
}

static void file_keywords_clear(struct maildir_mailbox *mbox)
{
	for (size_t i = 0; i < mbox->file_keywords.count; i++)
		free((char *)mbox->file_keywords.v[i]);
	array_clear(&mbox->file_keywords);
	array_clear(&mbox->file_kw_map);
}

/* Map every file index to the disk set's keyword index. */
static void file_kw_remap(struct maildir_mailbox *mbox)
{
	array_clear(&mbox->file_kw_map);
	for (size_t i = 0; i < mbox->file_keywords.count; i++) {
		const char *name = mbox->file_keywords.v[i];
		int idx = name == NULL ? -1 :
			mail_record_set_keyword(&mbox->box.disk, name, true);
		array_push(&mbox->file_kw_map, idx);
	}
	mailbox_kw_words_update(&mbox->box);
}

int maildir_keywords_read(struct maildir_mailbox *mbox)
{
	const char *path = keywords_path(mbox);
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	file_keywords_clear(mbox);
	if (f == NULL) {
		if (errno != ENOENT)
			i_error("open(%s) failed: %m", path);
		file_kw_remap(mbox);
		return errno == ENOENT ? 0 : -1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		char *end, *name;
		unsigned long idx;

		if (line[len - 1] == '\n')
			line[--len] = '\0';
		idx = strtoul(line, &end, 10);
		if (end == line || *end != ' ' || idx >= MAILDIR_MAX_KEYWORD_LETTERS ||
		    end[1] == '\0') {
			i_error("Invalid line in %s: %s", path, line);
			continue;
		}
		name = end + 1;
		while (mbox->file_keywords.count <= idx)
			array_push(&mbox->file_keywords, NULL);
		free((char *)mbox->file_keywords.v[idx]);
		mbox->file_keywords.v[idx] = i_strdup(name);
	}
	free(line);
	fclose(f);
	file_kw_remap(mbox);
	return 0;
}

static int keywords_write(struct maildir_mailbox *mbox)
{
	const char *path = keywords_path(mbox);
	char *tmp = i_strdup_printf("%s.tmp", path);
	string_t *str = str_new(256);
	int fd, ret = 0;

	for (size_t i = 0; i < mbox->file_keywords.count; i++) {
		if (mbox->file_keywords.v[i] != NULL)
			str_printfa(str, "%zu %s\n", i, mbox->file_keywords.v[i]);
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, str_c(str), str_len(str)) != (ssize_t)str_len(str) ||
	    rename(tmp, path) < 0) {
		i_error("write(%s) failed: %m", tmp);
		(void)unlink(tmp);
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	i_free(tmp);
	str_free(&str);
	return ret;
}

int maildir_keywords_letter(struct maildir_mailbox *mbox, unsigned int idx)
{
	const char *name;
	size_t i, free_slot = (size_t)-1;

	for (i = 0; i < mbox->file_kw_map.count; i++) {
		if (mbox->file_kw_map.v[i] == (int)idx)
			return (int)i;
	}
	if (idx >= mbox->box.disk.keywords.count)
		return -1;
	name = mbox->box.disk.keywords.v[idx];
	/* reread: someone may have added it meanwhile */
	(void)maildir_keywords_read(mbox);
	for (i = 0; i < mbox->file_keywords.count; i++) {
		if (mbox->file_keywords.v[i] == NULL) {
			if (free_slot == (size_t)-1)
				free_slot = i;
		} else if (strcasecmp(mbox->file_keywords.v[i], name) == 0) {
			return (int)i;
		}
	}
	if (free_slot == (size_t)-1) {
		if (mbox->file_keywords.count >= MAILDIR_MAX_KEYWORD_LETTERS)
			return -1;
		free_slot = mbox->file_keywords.count;
		array_push(&mbox->file_keywords, NULL);
	}
	mbox->file_keywords.v[free_slot] = i_strdup(name);
	if (keywords_write(mbox) < 0) {
		free((char *)mbox->file_keywords.v[free_slot]);
		mbox->file_keywords.v[free_slot] = NULL;
		return -1;
	}
	file_kw_remap(mbox);
	return (int)free_slot;
}

/* Letters without a name in dovecot-keywords get "unknown-N", as
 * Dovecot names them (and the file is rewritten with those names). */
void maildir_keywords_ensure(struct maildir_mailbox *mbox, const char *letters)
{
	bool changed = false;

	for (const char *p = letters; *p != '\0'; p++) {
		unsigned int fidx;
		char name[32];

		if (*p < 'a' || *p > 'z')
			continue;
		fidx = (unsigned int)(*p - 'a');
		while (mbox->file_keywords.count <= fidx)
			array_push(&mbox->file_keywords, NULL);
		if (mbox->file_keywords.v[fidx] != NULL)
			continue;
		snprintf(name, sizeof(name), "unknown-%u", fidx);
		mbox->file_keywords.v[fidx] = i_strdup(name);
		changed = true;
	}
	if (changed) {
		(void)keywords_write(mbox);
		file_kw_remap(mbox);
	}
}

void maildir_keywords_apply(struct maildir_mailbox *mbox,
			    struct mail_record *rec, const char *letters)
{
	for (const char *p = letters; *p != '\0'; p++) {
		unsigned int fidx;
		int idx;

		if (*p < 'a' || *p > 'z')
			continue;
		fidx = (unsigned int)(*p - 'a');
		if (fidx >= mbox->file_kw_map.count)
			continue;
		idx = mbox->file_kw_map.v[fidx];
		if (idx >= 0 && (unsigned int)idx < mbox->box.kw_words * 32)
			mail_record_set_kw(rec, (unsigned int)idx, true,
					   mbox->box.kw_words);
	}
}

void maildir_keywords_keep_unlettered(struct maildir_mailbox *mbox,
				      const struct mail_record *old,
				      struct mail_record *rec)
{
	unsigned int words = mbox->box.kw_words;

	for (unsigned int idx = 0; idx < words * 32; idx++) {
		bool lettered = false;

		if ((old->kw[idx / 32] & (1U << (idx % 32))) == 0)
			continue;
		for (size_t i = 0; i < mbox->file_kw_map.count && !lettered; i++)
			lettered = mbox->file_kw_map.v[i] == (int)idx;
		if (lettered)
			continue;	/* the file name says */
		if (rec->kw == NULL)
			rec->kw = i_new(uint32_t, words);
		mail_record_set_kw(rec, idx, true, words);
	}
}
