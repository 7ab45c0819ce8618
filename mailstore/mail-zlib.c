/* mail-zlib.c - compressed mail files (the zlib plugin): gzip and bzip2,
 * found by their magic bytes when reading, written per zlib_save. */
#include "mail-zlib.h"
#include "mail-plugins.h"
#include "settings-structs.h"

#include <bzlib.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#define ZLIB_CHUNK 16384
/* a sane bound: a mail file that inflates past this is refused */
#define ZLIB_MAX_OUTPUT (1024ULL * 1024 * 1024)

enum zlib_format {
	ZLIB_FORMAT_NONE,
	ZLIB_FORMAT_GZ,
	ZLIB_FORMAT_BZ2,
};

struct mail_zlib_writer {
	enum zlib_format format;
	z_stream gz;
	bz_stream bz;
};

bool mail_zlib_enabled(const struct mail_user *user)
{
	return mail_plugins_has(user->set->mail_plugins, "zlib");
}

static const char *plugin_get(const struct mail_user *user, const char *key)
{
	const struct settings_root *set = user->set;

	for (unsigned int i = 0; i < set->plugin_count; i++) {
		if (strcmp(set->plugin[i * 2], key) == 0)
			return set->plugin[i * 2 + 1];
	}
	return NULL;
}

static enum zlib_format detect(const unsigned char *data, size_t size)
{
	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
		return ZLIB_FORMAT_GZ;
	if (size >= 4 && data[0] == 'B' && data[1] == 'Z' && data[2] == 'h' &&
	    data[3] >= '1' && data[3] <= '9')
		return ZLIB_FORMAT_BZ2;
	return ZLIB_FORMAT_NONE;
}

/* Grow *buf so that at least ZLIB_CHUNK bytes are free after used. */
static int out_reserve(unsigned char **buf, size_t *cap, size_t used)
{
	if (*cap - used >= ZLIB_CHUNK)
		return 0;
	if (*cap >= ZLIB_MAX_OUTPUT)
		return -1;
	*cap = *cap == 0 ? ZLIB_CHUNK * 4 : *cap * 2;
	*buf = i_realloc(*buf, *cap);
	return 0;
}

static int gz_decompress(const unsigned char *data, size_t size,
			 unsigned char **out_r, size_t *out_size_r)
{
	z_stream z;
	unsigned char *buf = NULL;
	size_t cap = 0, used = 0;
	int ret;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return -1;
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)size;
	do {
		if (out_reserve(&buf, &cap, used) < 0) {
			ret = Z_MEM_ERROR;
			break;
		}
		z.next_out = buf + used;
		z.avail_out = (uInt)(cap - used);
		ret = inflate(&z, Z_NO_FLUSH);
		used = cap - z.avail_out;
		if (ret == Z_STREAM_END && z.avail_in > 0) {
			/* another gzip member follows */
			if (inflateReset(&z) != Z_OK)
				break;
			ret = Z_OK;
		}
	} while (ret == Z_OK);
	inflateEnd(&z);
	if (ret != Z_STREAM_END) {
		i_free(buf);
		return -1;
	}
	*out_r = buf;
	*out_size_r = used;
	return 0;
}

static int bz2_decompress(const unsigned char *data, size_t size,
			  unsigned char **out_r, size_t *out_size_r)
{
	bz_stream z;
	unsigned char *buf = NULL;
	size_t cap = 0, used = 0;
	int ret;

	memset(&z, 0, sizeof(z));
	if (BZ2_bzDecompressInit(&z, 0, 0) != BZ_OK)
		return -1;
	z.next_in = (char *)(uintptr_t)data;
	z.avail_in = (unsigned int)size;
	do {
		if (out_reserve(&buf, &cap, used) < 0) {
			ret = BZ_MEM_ERROR;
			break;
		}
		z.next_out = (char *)buf + used;
		z.avail_out = (unsigned int)(cap - used);
		ret = BZ2_bzDecompress(&z);
		used = cap - z.avail_out;
		if (ret == BZ_OK && z.avail_in == 0 && z.avail_out > 0) {
			/* truncated */
			ret = BZ_UNEXPECTED_EOF;
		}
	} while (ret == BZ_OK);
	BZ2_bzDecompressEnd(&z);
	if (ret != BZ_STREAM_END) {
		i_free(buf);
		return -1;
	}
	*out_r = buf;
	*out_size_r = used;
	return 0;
}

int mail_zlib_decompress(const unsigned char *data, size_t size,
			 unsigned char **out_r, size_t *out_size_r,
			 const char **error_r)
{
	switch (detect(data, size)) {
	case ZLIB_FORMAT_NONE:
		return 0;
	case ZLIB_FORMAT_GZ:
		if (gz_decompress(data, size, out_r, out_size_r) < 0) {
			*error_r = "gzip: Compressed data is corrupted";
			return -1;
		}
		return 1;
	case ZLIB_FORMAT_BZ2:
		if (bz2_decompress(data, size, out_r, out_size_r) < 0) {
			*error_r = "bzip2: Compressed data is corrupted";
			return -1;
		}
		return 1;
	}
	return 0;
}

struct mail_zlib_writer *mail_zlib_writer_init(const struct mail_user *user)
{
	struct mail_zlib_writer *w;
	const char *save, *level_str;
	int level = 6;

	if (!mail_zlib_enabled(user))
		return NULL;
	save = plugin_get(user, "zlib_save");
	if (save == NULL || save[0] == '\0')
		return NULL;
	level_str = plugin_get(user, "zlib_save_level");
	if (level_str != NULL && level_str[0] >= '1' && level_str[0] <= '9' &&
	    level_str[1] == '\0')
		level = level_str[0] - '0';
	w = i_new(struct mail_zlib_writer, 1);
	if (strcmp(save, "gz") == 0) {
		w->format = ZLIB_FORMAT_GZ;
		/* gzip header as Dovecot writes it: no name, mtime 0 */
		if (deflateInit2(&w->gz, level, Z_DEFLATED, 15 + 16, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK)
			i_panic("deflateInit2() failed");
	} else if (strcmp(save, "bz2") == 0) {
		w->format = ZLIB_FORMAT_BZ2;
		if (BZ2_bzCompressInit(&w->bz, level, 0, 0) != BZ_OK)
			i_panic("BZ2_bzCompressInit() failed");
	} else {
		i_error("zlib_save: Unknown compression format '%s'", save);
		i_free(w);
		return NULL;
	}
	return w;
}

static int write_full(int fd, const void *data, size_t size)
{
	const unsigned char *p = data;

	while (size > 0) {
		ssize_t n = write(fd, p, size);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		size -= (size_t)n;
	}
	return 0;
}

static int writer_run(struct mail_zlib_writer *w, int fd, const void *data,
		      size_t size, bool finish)
{
	unsigned char out[ZLIB_CHUNK];
	int ret;

	if (w->format == ZLIB_FORMAT_GZ) {
		w->gz.next_in = (Bytef *)(uintptr_t)data;
		w->gz.avail_in = (uInt)size;
		do {
			w->gz.next_out = out;
			w->gz.avail_out = sizeof(out);
			ret = deflate(&w->gz, finish ? Z_FINISH : Z_NO_FLUSH);
			if (ret == Z_STREAM_ERROR) {
				errno = EINVAL;
				return -1;
			}
			if (write_full(fd, out, sizeof(out) -
				       w->gz.avail_out) < 0)
				return -1;
		} while (w->gz.avail_out == 0 ||
			 (finish && ret != Z_STREAM_END));
		return 0;
	}
	w->bz.next_in = (char *)(uintptr_t)data;
	w->bz.avail_in = (unsigned int)size;
	do {
		w->bz.next_out = (char *)out;
		w->bz.avail_out = sizeof(out);
		ret = BZ2_bzCompress(&w->bz, finish ? BZ_FINISH : BZ_RUN);
		if (ret < 0) {
			errno = EINVAL;
			return -1;
		}
		if (write_full(fd, out, sizeof(out) - w->bz.avail_out) < 0)
			return -1;
	} while (w->bz.avail_out == 0 || w->bz.avail_in > 0 ||
		 (finish && ret != BZ_STREAM_END));
	return 0;
}

int mail_zlib_writer_write(struct mail_zlib_writer *w, int fd,
			   const void *data, size_t size)
{
	if (size == 0)
		return 0;
	return writer_run(w, fd, data, size, false);
}

int mail_zlib_writer_finish(struct mail_zlib_writer *w, int fd)
{
	return writer_run(w, fd, "", 0, true);
}

void mail_zlib_writer_free(struct mail_zlib_writer **_w)
{
	struct mail_zlib_writer *w = *_w;

	if (w == NULL)
		return;
	*_w = NULL;
	if (w->format == ZLIB_FORMAT_GZ)
		deflateEnd(&w->gz);
	else
		BZ2_bzCompressEnd(&w->bz);
	i_free(w);
}
