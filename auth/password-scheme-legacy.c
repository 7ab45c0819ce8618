/* password-scheme-legacy.c - MD4 (PLAIN-MD4, OTP md4) and the raw MD5
 * states of Dovecot's CRAM-MD5 context. OpenSSL 3 keeps both only in its
 * deprecated low-level API (MD4 is not in the default provider), so they
 * are kept apart in this one file. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "lib.h"
#include "password-scheme-private.h"

#include <openssl/md4.h>
#include <openssl/md5.h>

#define HMAC_BLOCK_LEN 64

void password_md4(const void *data, size_t size,
		  unsigned char digest[PASSWORD_MD4_LEN])
{
	MD4_CTX ctx;

	if (MD4_Init(&ctx) != 1 || MD4_Update(&ctx, data, size) != 1 ||
	    MD4_Final(digest, &ctx) != 1)
		i_fatal("OpenSSL MD4 failed");
	explicit_bzero(&ctx, sizeof(ctx));
}

static void md5_state_after_block(const unsigned char block[HMAC_BLOCK_LEN],
				  unsigned char out[16])
{
	MD5_CTX ctx;
	const MD5_LONG *state[4] = { &ctx.A, &ctx.B, &ctx.C, &ctx.D };

	MD5_Init(&ctx);
	MD5_Update(&ctx, block, HMAC_BLOCK_LEN);
	for (unsigned int i = 0; i < 4; i++) {
		MD5_LONG w = *state[i];

		out[i * 4] = (unsigned char)(w & 0xff);
		out[i * 4 + 1] = (unsigned char)(w >> 8 & 0xff);
		out[i * 4 + 2] = (unsigned char)(w >> 16 & 0xff);
		out[i * 4 + 3] = (unsigned char)(w >> 24 & 0xff);
	}
	explicit_bzero(&ctx, sizeof(ctx));
}

void password_cram_md5_context(const void *key, size_t key_len,
			       unsigned char ctx[PASSWORD_CRAM_MD5_CONTEXT_LEN])
{
	unsigned char k[HMAC_BLOCK_LEN], block[HMAC_BLOCK_LEN];

	memset(k, 0, sizeof(k));
	if (key_len > HMAC_BLOCK_LEN)
		MD5(key, key_len, k); /* RFC 2104: long keys are hashed */
	else
		memcpy(k, key, key_len);
	for (unsigned int i = 0; i < HMAC_BLOCK_LEN; i++)
		block[i] = k[i] ^ 0x5c;
	md5_state_after_block(block, ctx);
	for (unsigned int i = 0; i < HMAC_BLOCK_LEN; i++)
		block[i] = k[i] ^ 0x36;
	md5_state_after_block(block, ctx + 16);
	explicit_bzero(k, sizeof(k));
	explicit_bzero(block, sizeof(block));
}
