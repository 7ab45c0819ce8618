/* mail-zlib.h - the zlib plugin (mail_plugins = zlib): mail files that
 * Dovecot (or Roost) stored compressed are read transparently, the
 * format found by its magic bytes as Dovecot does (gzip, bzip2, xz, zstd,
 * and lz4 in Dovecot's own container "Dovecot-LZ4\r*\x9b\xc5" + chunk
 * size + sized LZ4 blocks of 64 KB), and new Maildir files are written
 * compressed when plugin { zlib_save = gz|bz2|xz|zstd|lz4 } says so, at
 * zlib_save_level (default 6; lz4 has none). S= and W= in the file name
 * stay the uncompressed sizes, as Dovecot records them. Dovecot 2.3.19
 * can't write xz (it logs "Support not compiled in for handler: xz" and
 * stores plain); Roost writes it and Dovecot reads it back. */
#ifndef ROOST_MAIL_ZLIB_H
#define ROOST_MAIL_ZLIB_H

#include "mail-storage.h"

struct mail_zlib_writer;

/* Is the zlib plugin loaded for this user? */
bool mail_zlib_enabled(const struct mail_user *user);
/* 1 and a malloc()ed copy of the uncompressed bytes when data starts
 * with a known compression's magic; 0 when it isn't compressed; -1 with
 * *error_r when it is but doesn't decompress. */
int mail_zlib_decompress(const unsigned char *data, size_t size,
			 unsigned char **out_r, size_t *out_size_r,
			 const char **error_r);

/* A writer for new mail files per zlib_save, or NULL (plain). */
struct mail_zlib_writer *mail_zlib_writer_init(const struct mail_user *user);
/* Compress data into fd. -1 with errno (write) or EINVAL (stream). */
int mail_zlib_writer_write(struct mail_zlib_writer *w, int fd,
			   const void *data, size_t size);
int mail_zlib_writer_finish(struct mail_zlib_writer *w, int fd);
void mail_zlib_writer_free(struct mail_zlib_writer **w);

#endif
