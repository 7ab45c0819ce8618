/* mail-zlib.c - compressed mail files (the zlib plugin): gzip, bzip2,
 * xz, zstd and Dovecot's lz4 container, found by their magic bytes when
 * reading, written per zlib_save. */
#include "mail-zlib.h"
#include "mail-plugins.h"
#include "settings-structs.h"

#include <bzlib.h>
#include <errno.h>
#include <lz4.h>
#include <lzma.h>
#include <zstd.h>
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
	ZLIB_FORMAT_XZ,
	ZLIB_FORMAT_ZSTD,
	ZLIB_FORMAT_LZ4,
};

/* Dovecot's lz4 file: this magic, the largest uncompressed chunk (32-bit
   big-endian; Dovecot writes 65536), then chunks of a 32-bit big-endian
   compressed size and an LZ4 block. */
static const unsigned char lz4_magic[] = {
	'D', 'o', 'v', 'e', 'c', 'o', 't', '-', 'L', 'Z', '4',
	0x0d, 0x2a, 0x9b, 0xc5
};
#define LZ4_HEADER_LEN (sizeof(lz4_magic) + 4)
#define LZ4_CHUNK_SIZE 65536
/* a chunk size in a file header beyond this is refused */
#define LZ4_MAX_CHUNK_SIZE (16 * 1024 * 1024)

#define XZ_MAX_DICT_SIZE (1024 * 1024)

static const unsigned char xz_magic[] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };
static const unsigned char zstd_magic[] = { 0x28, 0xb5, 0x2f, 0xfd };

struct mail_zlib_writer {
	enum zlib_format format;
	z_stream gz;
	bz_stream bz;
	lzma_stream xz;
	ZSTD_CStream *zstd;
	/* lz4: input gathered until a chunk is full */
	unsigned char *lz4_buf;
	size_t lz4_used;
	bool lz4_header_written;
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
	if (size >= sizeof(xz_magic) &&
	    memcmp(data, xz_magic, sizeof(xz_magic)) == 0)
		return ZLIB_FORMAT_XZ;
	if (size >= sizeof(zstd_magic) &&
	    memcmp(data, zstd_magic, sizeof(zstd_magic)) == 0)
		return ZLIB_FORMAT_ZSTD;
	if (size >= sizeof(lz4_magic) &&
	    memcmp(data, lz4_magic, sizeof(lz4_magic)) == 0)
		return ZLIB_FORMAT_LZ4;
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

static int xz_decompress(const unsigned char *data, size_t size,
			 unsigned char **out_r, size_t *out_size_r)
{
	lzma_stream z = LZMA_STREAM_INIT;
	unsigned char *buf = NULL;
	size_t cap = 0, used = 0;
	lzma_ret ret;

	if (lzma_stream_decoder(&z, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		return -1;
	z.next_in = data;
	z.avail_in = size;
	do {
		if (out_reserve(&buf, &cap, used) < 0) {
			ret = LZMA_MEM_ERROR;
			break;
		}
		z.next_out = buf + used;
		z.avail_out = cap - used;
		ret = lzma_code(&z, LZMA_FINISH);
		used = cap - z.avail_out;
	} while (ret == LZMA_OK);
	lzma_end(&z);
	if (ret != LZMA_STREAM_END) {
		i_free(buf);
		return -1;
	}
	*out_r = buf;
	*out_size_r = used;
	return 0;
}

static int zstd_decompress(const unsigned char *data, size_t size,
			   unsigned char **out_r, size_t *out_size_r)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	ZSTD_inBuffer in = { data, size, 0 };
	unsigned char *buf = NULL;
	size_t cap = 0, used = 0, ret = 1;
	bool frame_done = false;

	if (z == NULL)
		return -1;
	while (in.pos < in.size) {
		ZSTD_outBuffer out;

		if (out_reserve(&buf, &cap, used) < 0) {
			ret = 1;
			frame_done = false;
			break;
		}
		out.dst = buf + used;
		out.size = cap - used;
		out.pos = 0;
		ret = ZSTD_decompressStream(z, &out, &in);
		used += out.pos;
		if (ZSTD_isError(ret))
			break;
		/* 0: a frame ended (another may follow) */
		frame_done = ret == 0;
		if (!frame_done && in.pos == in.size && out.pos < out.size)
			break;	/* truncated */
	}
	/* the last frame's data may still sit in the decoder */
	while (!ZSTD_isError(ret) && !frame_done) {
		ZSTD_outBuffer out;

		if (out_reserve(&buf, &cap, used) < 0)
			break;
		out.dst = buf + used;
		out.size = cap - used;
		out.pos = 0;
		ret = ZSTD_decompressStream(z, &out, &in);
		used += out.pos;
		if (ZSTD_isError(ret))
			break;
		frame_done = ret == 0;
		if (!frame_done && out.pos < out.size)
			break;	/* no progress: truncated */
	}
	ZSTD_freeDStream(z);
	if (!frame_done) {
		i_free(buf);
		return -1;
	}
	*out_r = buf;
	*out_size_r = used;
	return 0;
}

static uint32_t be32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
		((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static int lz4_decompress(const unsigned char *data, size_t size,
			  unsigned char **out_r, size_t *out_size_r)
{
	unsigned char *buf = NULL;
	size_t cap = 0, used = 0, pos = LZ4_HEADER_LEN;
	uint32_t max_chunk, csize;
	int n;

	if (size < LZ4_HEADER_LEN)
		return -1;
	max_chunk = be32(data + sizeof(lz4_magic));
	if (max_chunk == 0 || max_chunk > LZ4_MAX_CHUNK_SIZE)
		return -1;
	while (pos < size) {
		if (size - pos < 4)
			goto fail;
		csize = be32(data + pos);
		pos += 4;
		if (csize == 0 || csize > size - pos ||
		    csize > (uint32_t)LZ4_compressBound((int)max_chunk))
			goto fail;
		if (cap - used < max_chunk) {
			if (cap >= ZLIB_MAX_OUTPUT)
				goto fail;
			cap = cap == 0 ? (size_t)max_chunk * 4 : cap * 2;
			if (cap - used < max_chunk)
				cap = used + max_chunk;
			buf = i_realloc(buf, cap);
		}
		n = LZ4_decompress_safe((const char *)data + pos,
					(char *)buf + used, (int)csize,
					(int)max_chunk);
		if (n < 0)
			goto fail;
		used += (size_t)n;
		pos += csize;
	}
	if (buf == NULL)
		buf = i_malloc(1);
	*out_r = buf;
	*out_size_r = used;
	return 0;
fail:
	i_free(buf);
	return -1;
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
	case ZLIB_FORMAT_XZ:
		if (xz_decompress(data, size, out_r, out_size_r) < 0) {
			*error_r = "xz: Compressed data is corrupted";
			return -1;
		}
		return 1;
	case ZLIB_FORMAT_ZSTD:
		if (zstd_decompress(data, size, out_r, out_size_r) < 0) {
			*error_r = "zstd: Compressed data is corrupted";
			return -1;
		}
		return 1;
	case ZLIB_FORMAT_LZ4:
		if (lz4_decompress(data, size, out_r, out_size_r) < 0) {
			*error_r = "lz4: Compressed data is corrupted";
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
	} else if (strcmp(save, "xz") == 0) {
		lzma_options_lzma opt;
		lzma_filter filters[2];

		w->format = ZLIB_FORMAT_XZ;
		/* the preset's dictionary (8 MB at level 6: ~94 MB of
		   encoder memory) capped, mails being small: ~11 MB */
		if (lzma_lzma_preset(&opt, (uint32_t)level))
			i_panic("lzma_lzma_preset() failed");
		if (opt.dict_size > XZ_MAX_DICT_SIZE)
			opt.dict_size = XZ_MAX_DICT_SIZE;
		filters[0].id = LZMA_FILTER_LZMA2;
		filters[0].options = &opt;
		filters[1].id = LZMA_VLI_UNKNOWN;
		filters[1].options = NULL;
		if (lzma_stream_encoder(&w->xz, filters,
					LZMA_CHECK_CRC64) != LZMA_OK)
			i_panic("lzma_stream_encoder() failed");
	} else if (strcmp(save, "zstd") == 0) {
		w->format = ZLIB_FORMAT_ZSTD;
		w->zstd = ZSTD_createCStream();
		if (w->zstd == NULL ||
		    ZSTD_isError(ZSTD_initCStream(w->zstd, level)))
			i_panic("ZSTD_initCStream() failed");
	} else if (strcmp(save, "lz4") == 0) {
		/* Dovecot ignores the level for lz4 */
		w->format = ZLIB_FORMAT_LZ4;
		w->lz4_buf = i_malloc(LZ4_CHUNK_SIZE);
	} else {
		i_error("zlib_save: Unknown handler: %s", save);
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

static int xz_run(struct mail_zlib_writer *w, int fd, const void *data,
		  size_t size, bool finish)
{
	unsigned char out[ZLIB_CHUNK];
	lzma_ret ret;

	w->xz.next_in = data;
	w->xz.avail_in = size;
	do {
		w->xz.next_out = out;
		w->xz.avail_out = sizeof(out);
		ret = lzma_code(&w->xz, finish ? LZMA_FINISH : LZMA_RUN);
		if (ret != LZMA_OK && ret != LZMA_STREAM_END) {
			errno = EINVAL;
			return -1;
		}
		if (write_full(fd, out, sizeof(out) - w->xz.avail_out) < 0)
			return -1;
	} while (w->xz.avail_out == 0 || w->xz.avail_in > 0 ||
		 (finish && ret != LZMA_STREAM_END));
	return 0;
}

static int zstd_run(struct mail_zlib_writer *w, int fd, const void *data,
		    size_t size, bool finish)
{
	unsigned char out[ZLIB_CHUNK];
	ZSTD_inBuffer in = { data, size, 0 };
	size_t ret;

	for (;;) {
		ZSTD_outBuffer ob = { out, sizeof(out), 0 };

		ret = finish ? ZSTD_endStream(w->zstd, &ob) :
			ZSTD_compressStream(w->zstd, &ob, &in);
		if (ZSTD_isError(ret)) {
			errno = EINVAL;
			return -1;
		}
		if (write_full(fd, out, ob.pos) < 0)
			return -1;
		if (finish ? ret == 0 :
		    (in.pos == in.size && ob.pos < ob.size))
			return 0;
	}
}

static int lz4_flush_chunk(struct mail_zlib_writer *w, int fd)
{
	int bound = LZ4_compressBound(LZ4_CHUNK_SIZE), n;
	unsigned char *out = i_malloc((size_t)bound + 4);
	int ret;

	n = LZ4_compress_default((const char *)w->lz4_buf, (char *)out + 4,
				 (int)w->lz4_used, bound);
	if (n <= 0) {
		i_free(out);
		errno = EINVAL;
		return -1;
	}
	out[0] = (unsigned char)((unsigned int)n >> 24);
	out[1] = (unsigned char)((unsigned int)n >> 16);
	out[2] = (unsigned char)((unsigned int)n >> 8);
	out[3] = (unsigned char)n;
	ret = write_full(fd, out, (size_t)n + 4);
	i_free(out);
	w->lz4_used = 0;
	return ret;
}

static int lz4_run(struct mail_zlib_writer *w, int fd, const void *data,
		   size_t size, bool finish)
{
	const unsigned char *p = data;

	if (!w->lz4_header_written) {
		unsigned char hdr[LZ4_HEADER_LEN];

		memcpy(hdr, lz4_magic, sizeof(lz4_magic));
		hdr[sizeof(lz4_magic)] = 0;
		hdr[sizeof(lz4_magic) + 1] = (unsigned char)(LZ4_CHUNK_SIZE >> 16);
		hdr[sizeof(lz4_magic) + 2] = 0;
		hdr[sizeof(lz4_magic) + 3] = 0;
		if (write_full(fd, hdr, sizeof(hdr)) < 0)
			return -1;
		w->lz4_header_written = true;
	}
	while (size > 0) {
		size_t n = LZ4_CHUNK_SIZE - w->lz4_used;

		if (n > size)
			n = size;
		memcpy(w->lz4_buf + w->lz4_used, p, n);
		w->lz4_used += n;
		p += n;
		size -= n;
		if (w->lz4_used == LZ4_CHUNK_SIZE && lz4_flush_chunk(w, fd) < 0)
			return -1;
	}
	if (finish && w->lz4_used > 0)
		return lz4_flush_chunk(w, fd);
	return 0;
}

static int writer_run(struct mail_zlib_writer *w, int fd, const void *data,
		      size_t size, bool finish)
{
	unsigned char out[ZLIB_CHUNK];
	int ret;

	switch (w->format) {
	case ZLIB_FORMAT_XZ:
		return xz_run(w, fd, data, size, finish);
	case ZLIB_FORMAT_ZSTD:
		return zstd_run(w, fd, data, size, finish);
	case ZLIB_FORMAT_LZ4:
		return lz4_run(w, fd, data, size, finish);
	default:
		break;
	}

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
	switch (w->format) {
	case ZLIB_FORMAT_GZ:
		deflateEnd(&w->gz);
		break;
	case ZLIB_FORMAT_BZ2:
		BZ2_bzCompressEnd(&w->bz);
		break;
	case ZLIB_FORMAT_XZ:
		lzma_end(&w->xz);
		break;
	case ZLIB_FORMAT_ZSTD:
		ZSTD_freeCStream(w->zstd);
		break;
	case ZLIB_FORMAT_LZ4:
		i_free(w->lz4_buf);
		break;
	case ZLIB_FORMAT_NONE:
		break;
	}
	i_free(w);
}
