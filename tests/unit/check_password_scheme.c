/* check_password_scheme.c - unit tests of auth/password-scheme*.c:
 * published vectors (RFC 1320, 2195, 2289, 5802, 7677, 6070, the
 * crypt(3) and Argon2 reference strings), hashes made by Debian's
 * Dovecot 2.3.19 `doveadm pw`, credentials for SASL mechanisms, and
 * malformed stored passwords. */
#define OPENSSL_SUPPRESS_DEPRECATED /* MD5_CTX, to resume CRAM contexts */
#include "suites.h"
#include "pool.h"
#include "password-scheme.h"

#include <stdio.h>
#include <openssl/md5.h>

#define PW "secret"

/* Verified by Dovecot 2.3.19's doveadm (the "(verified)" oracle). */
struct fixture {
	const char *plaintext, *user, *stored;
};

/* Made by Debian 12's `doveadm pw -s <S> -p secret` (DIGEST-MD5 with -u). */
static const struct fixture dovecot_made[] = {
	{ PW, NULL, "{PLAIN}secret" },
	{ PW, NULL, "{CLEAR}secret" },
	{ PW, NULL, "{CLEARTEXT}secret" },
	{ PW, NULL, "{CRYPT}$2y$05$L6YiyQkZkPsF3dTjqaERUODiECgZEMNQd8lKNB4YELcSHNHE3OaCa" },
	{ PW, NULL, "{DES-CRYPT}GgsGpqkhcXsVw" },
	{ PW, NULL, "{MD5}$1$nrRUenPe$dg423cIDOW1FIO13Mbqm61" },
	{ PW, NULL, "{MD5-CRYPT}$1$ut2Awc5Z$2MpbCWYgLUeDbt7UTIQpb1" },
	{ PW, NULL, "{SHA256-CRYPT}$5$VjNIFUoPW2CESwfa$jYJqeg1ylaRL69cKWBq0S5IaHfyOMwH25u9YRMpoNK8" },
	{ PW, NULL, "{SHA512-CRYPT}$6$4p23YGEhScTKrIDG$WUzcZOQVnxFxq/fCbiUXAH.Y02OjKLJl1v3UMzHISRRkEpO9KWd7ZSPnEVCQl.0A8pVnKX4CkmHzrpx./8.8Z1" },
	{ "x", NULL, "{SHA512-CRYPT}$6$rounds=1000$TI0tsmNPF8NsiPdI$SR8aSbQKiaFOFn5JutTG.b2pF22Jk1O39jkK.eVJa1zbaMZKspnz/GQ/fHEXkGh7OGdEFBImCTdcqPCLxlv7p1" },
	{ PW, NULL, "{BLF-CRYPT}$2y$05$9wNZ09FuEpdYkFbFieD50OZxiKq.aCq8vhPs8ttF06a1T9VHL2kZ." },
	{ PW, NULL, "{PLAIN-MD4}67d3dafef63ff00603aeef3769cfbf0d" },
	{ PW, NULL, "{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69" },
	{ PW, NULL, "{LDAP-MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==" },
	{ PW, NULL, "{SMD5}SRA7cnp459MzyT2ngwwLCLiE/2A=" },
	{ "x", NULL, "{SMD5}VxwZ4lBsYJt1LLQoqgJd5mTJn7k=" },
	{ PW, NULL, "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=" },
	{ PW, NULL, "{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ=" },
	{ PW, NULL, "{SSHA}eSV6SE4Yl4XMCi/Hs/se7ZM/RmGOX1B3" },
	{ PW, NULL, "{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=" },
	{ PW, NULL, "{SSHA256}pvZ/gzmzp6JyDGyl4SrsGM7pxhuCQv7x9hQ0m4LaaMDUmHh5" },
	{ "x", NULL, "{SSHA256}VL6cNjkk5ssZtFPXNo/3pfM66zSOkRo6pShXVgvJOp77NXN+" },
	{ PW, NULL, "{SHA512}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2cmW192CF5bDufKRpayrW/isg==" },
	{ "", NULL, "{SHA512}z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==" },
	{ PW, NULL, "{SSHA512}ezzsTOAwgTJRGXRxPTquGQjrEgvEdlQe+VRD3RfNy07mV61SPzHOhg2TtXgAXYYipXsnqQgh+6yMOYAI5vTbWEvJv8w=" },
	{ "x", NULL, "{SSHA512.HEX}ef8d3688389577dc054ff2a09152f6e63da19b151e846c757e7669f3ef6064ef466e6964533bf642add0f874eb108087bfa5dffbf56b71b18cb8cb6d31ae29be13f70450" },
	{ PW, NULL, "{HMAC-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56" },
	{ PW, NULL, "{CRAM-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56" },
	{ PW, NULL, "{CRAM-MD5.B64}zTun3qrW5cojRIukLjeXR6ng9/H7wAyKgbuqw5VzG1Y=" },
	{ "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
	  NULL, "{CRAM-MD5}3ae21d35bcb420cc10d678a30813dfaff1c856d356b2c5f8429dc6087392415f" },
	{ PW, "alice@example.com", "{DIGEST-MD5}b1726872c344b6dc8365b774f8fd6412" },
	{ PW, "alice", "{DIGEST-MD5}cc3a3506aba601d2feee7bf9b34237ce" },
	{ PW, "a@b@c", "{DIGEST-MD5}c752f0e67f7456b2268cbb0c8bf8f618" },
	{ PW, "a@b@c", "{DIGEST-MD5.B64}x1Lw5n90VrImjLsMi/j2GA==" },
	{ "p\xc3\xa4ssw\xc3\xb6rd", "user@realm", "{DIGEST-MD5}7d4bd9c9c25132d1f968dc28b7901032" },
	{ "p\xc3\xa4ssw\xc3\xb6rd", NULL, "{LDAP-MD5}EoQeS6XjfS+/x4RYxnFK3g==" },
	{ PW, NULL, "{PBKDF2}$1$ljts2JHqYyMdnTLH$5000$c3c784fc52e76128b10c2745267112e7de7de54a" },
	{ "x", NULL, "{PBKDF2}$1$fDbBsCXjxPq7H6J0$10$e53ebff1a23bc941430c75563f735276917ba65d" },
	{ PW, NULL, "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$6k9YFZV7asL95I3tttplAQ$8Ri8Y/Jiqe+4ygPSPvUpfwc1S93uas1Pl6wLHN1A95E" },
	{ PW, NULL, "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$Vb3vptxyb8KCZYuNpE4/nw$mwrQFPwU8QfzD32TYA9sqxYGHmHrRHzqOOd10QYQYfg" },
	{ PW, NULL, "{ARGON2I}$argon2id$v=19$m=65536,t=3,p=1$Vb3vptxyb8KCZYuNpE4/nw$mwrQFPwU8QfzD32TYA9sqxYGHmHrRHzqOOd10QYQYfg" },
	{ PW, NULL, "{SCRAM-SHA-1}4096,kZDZuw2ftO5kcEHFNl2wRg==,SI3u0zl6pEFSP2hQkg2/AWAbZ/o=,/ZpMr2U2lLoVGmQSFSTLevJQo0s=" },
	{ "pencil", NULL, "{SCRAM-SHA-1}4096,s/w0+YD+NGmyQujc7xh8cw==,P8xHTlPX2bIjMr+g4k7JVCyO36E=,Xtp8fX+XQG46EyMq2g3ALC/9DTw=" },
	{ PW, NULL, "{SCRAM-SHA-256}4096,oG5UuXWKCLXZPRTRCS5C/A==,AszCfH85B0A1OIdHZk9cU8Z0ZNcInBWDfRduJE/Gvz8=,IflBxIREFr10Jzj4kxqirSkzSPe5NMb8r43rHq8Zaz4=" },
	{ "pencil", NULL, "{SCRAM-SHA-256}4096,5ZHPEkbO66vMTBGlhGnFAg==,KIqE9ayXWKDPpjZk8DTJRo641iB+WATlxQEH/z0uGc4=,nRRR9Pox6DykqgFaT6eMe7Quxc25WB8g6qj3msOzyI4=" },
	{ PW, NULL, "{OTP}sha1 1024 f0934c805cb8bfdb 4dbdcee850aab354" },
	{ "x", NULL, "{OTP}sha1 1024 bd7f235c1d7412e5 fc37b9049b8846d5" },
	/* bare forms */
	{ PW, NULL, "$1$nrRUenPe$dg423cIDOW1FIO13Mbqm61" },
	{ PW, NULL, "$1$nrRUenPe$dg423cIDOW1FIO13Mbqm61$ignored" },
};

/* Published vectors, each also verified by Dovecot's doveadm. */
static const struct fixture published[] = {
	/* RFC 1320 */
	{ "", NULL, "{PLAIN-MD4}31d6cfe0d16ae931b73c59d7e0c089c0" },
	{ "abc", NULL, "{PLAIN-MD4}a448017aaf21d8525fc10ae87aa6729d" },
	{ "message digest", NULL, "{PLAIN-MD4}d9130a8164549fe818874806e1c7014b" },
	/* RFC 1321 */
	{ "abc", NULL, "{PLAIN-MD5}900150983cd24fb0d6963f7d28e17f72" },
	/* FIPS 180 */
	{ "abc", NULL, "{SHA.hex}a9993e364706816aba3e25717850c26c9cd0d89d" },
	{ "abc", NULL, "{SHA256.hex}ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	/* RFC 6070 (PBKDF2-HMAC-SHA1) */
	{ "password", NULL, "{PBKDF2}$1$salt$1$0c60c80f961f0e71f3a9b524af6012062fe037a6" },
	{ "password", NULL, "{PBKDF2}$1$salt$2$ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957" },
	{ "password", NULL, "{PBKDF2}$1$salt$4096$4b007901b765489abead49d926f721d065a429c1" },
	/* RFC 5802 and 7677: keys of the example exchanges */
	{ "pencil", NULL, "{SCRAM-SHA-1}4096,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,D+CSWLOshSulAsxiupA+qs2/fTE=" },
	{ "pencil", NULL, "{SCRAM-SHA-256}4096,W22ZaJ0SNY7soEsUEjb6gQ==,WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=" },
	/* RFC 2289 appendix C (seeds are case-insensitive) */
	{ "This is a test.", NULL, "{OTP}md4 0 test d1854218ebbb0b51" },
	{ "This is a test.", NULL, "{OTP}md4 1 TeSt 63473EF01CD0B444" },
	{ "This is a test.", NULL, "{OTP}md4 99 test c5e612776e6c237a" },
	{ "This is a test.", NULL, "{OTP}md5 0 test 9e876134d90499dd" },
	{ "This is a test.", NULL, "{OTP}md5 99 test 50fe1962c4965880" },
	{ "This is a test.", NULL, "{OTP}sha1 0 test bb9e6ae1979d8ff4" },
	{ "This is a test.", NULL, "{OTP}sha1 1 test 63d936639734385b" },
	{ "AbCdEfGhIjK", NULL, "{OTP}sha1 99 alpha1 27bc71035aaf3dc6" },
	{ "OTP's are good", NULL, "{OTP}md4 1 correct 8c0992fb250847b1" },
	{ "OTP's are good", NULL, "{OTP}md5 1 correct ddcdac956f234937" },
	{ "OTP's are good", NULL, "{OTP}sha1 99 correct 4f296a74fe1567ec" },
	/* the crypt(3) self-test strings Dovecot checks at start-up */
	{ "08/15!test~4711", NULL, "{DES-CRYPT}JBOZ0DgmtucwE" },
	{ "08/15!test~4711", NULL, "{BLF-CRYPT}$2a$04$0123456789abcdefABCDE.N.drYX5yIAL1LkTaaZotW3yI0hQhZru" },
	{ "08/15!test~4711", NULL, "{SHA256-CRYPT}$5$rounds=1000$0123456789abcdef$K/DksR0DT01hGc8g/kt9McEgrbFMKi9qrb1jehe7hn4" },
	{ "08/15!test~4711", NULL, "{SHA512-CRYPT}$6$rounds=1000$0123456789abcdef$ZIAd5WqfyLkpvsVCVUU1GrvqaZTqvhJoouxdSqJO71l9Ld3tVrfOatEjarhghvEYADkq//LpDnTeO90tcbtHR1" },
	/* the Argon2 reference implementation's test vectors */
	{ "password", NULL, "{ARGON2I}$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA" },
	{ "password", NULL, "{ARGON2ID}$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc" },
	{ "password", NULL, "{ARGON2ID}$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4" },
	/* RFC 2195's example key as Dovecot stores it */
	{ "tanstaaftanstaaf", NULL, "{CRAM-MD5}d06d4e1b26fccaa4b0b61801132340a354b21152711fb604ca3e035e7015116b" },
};

static void check_fixtures(const struct fixture *f, size_t count)
{
	const char *error;

	for (size_t i = 0; i < count; i++) {
		int ret = password_verify(f[i].plaintext, f[i].stored, NULL,
					  f[i].user, &error);

		ck_assert_msg(ret == 1, "%s: %d %s", f[i].stored, ret,
			      ret == 1 ? "" : error);
		ret = password_verify("wrong", f[i].stored, NULL, f[i].user,
				      &error);
		ck_assert_msg(ret == 0, "%s with a wrong password: %d",
			      f[i].stored, ret);
		ck_assert_str_eq(error, "Password mismatch");
	}
}

START_TEST(test_dovecot_made)
{
	check_fixtures(dovecot_made, N_ELEMENTS(dovecot_made));
}
END_TEST

START_TEST(test_published_vectors)
{
	check_fixtures(published, N_ELEMENTS(published));
}
END_TEST

/* Hashes that need no salt come out byte for byte as Dovecot's. */
START_TEST(test_generate_deterministic)
{
	static const struct {
		const char *scheme, *user, *expected;
	} cases[] = {
		{ "PLAIN", NULL, "{PLAIN}secret" },
		{ "plain", NULL, "{PLAIN}secret" },
		{ "PLAIN-TRUNC", NULL, "{PLAIN-TRUNC}secret" },
		{ "PLAIN.b64", NULL, "{PLAIN.B64}c2VjcmV0" },
		{ "plain.base64", NULL, "{PLAIN.BASE64}c2VjcmV0" },
		{ "SHA", NULL, "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=" },
		{ "SHA.hex", NULL, "{SHA.HEX}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4" },
		{ "SHA256", NULL, "{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=" },
		{ "PLAIN-MD4", NULL, "{PLAIN-MD4}67d3dafef63ff00603aeef3769cfbf0d" },
		{ "PLAIN-MD5", NULL, "{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69" },
		{ "LDAP-MD5", NULL, "{LDAP-MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==" },
		{ "CRAM-MD5", NULL, "{CRAM-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56" },
		{ "cram-md5.b64", NULL, "{CRAM-MD5.B64}zTun3qrW5cojRIukLjeXR6ng9/H7wAyKgbuqw5VzG1Y=" },
		{ "HMAC-MD5", NULL, "{HMAC-MD5}cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56" },
		{ "DIGEST-MD5", "alice@example.com", "{DIGEST-MD5}b1726872c344b6dc8365b774f8fd6412" },
		{ "DIGEST-MD5", "", "{DIGEST-MD5}a5db0679d7fb553691d5f75c98f4418f" },
	};
	const char *error;

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char *hash = password_generate(PW, cases[i].scheme,
					       cases[i].user, 0, &error);

		ck_assert_msg(hash != NULL, "%s: %s", cases[i].scheme, error);
		ck_assert_str_eq(hash, cases[i].expected);
		free(hash);
	}
}
END_TEST

/* Every listed scheme makes a hash that checks with its password only. */
START_TEST(test_generate_roundtrip)
{
	const char *const *names = password_schemes_list();
	const char *error;
	unsigned int count = 0;

	for (; *names != NULL; names++, count++) {
		const char *user = password_scheme_needs_user(*names) ?
			"bob@example.org" : NULL;
		char *hash = password_generate(PW, *names, user, 0, &error);

		ck_assert_msg(hash != NULL, "%s: %s", *names, error);
		if (strcmp(*names, "PLAIN-TRUNC") == 0) {
			/* Dovecot's own output lacks the length prefix */
			ck_assert_int_eq(password_verify(PW, hash, NULL, user,
							 &error), -1);
			free(hash);
			continue;
		}
		ck_assert_msg(password_verify(PW, hash, NULL, user,
					      &error) == 1, "%s: %s", hash,
			      error);
		ck_assert_int_eq(password_verify("Secret", hash, NULL, user,
						 &error), 0);
		free(hash);
	}
	ck_assert_uint_eq(count, 31);
}
END_TEST

START_TEST(test_generate_rounds)
{
	static const struct {
		const char *scheme;
		unsigned int rounds;
		const char *prefix;
	} cases[] = {
		{ "CRYPT", 0, "{CRYPT}$2y$05$" },
		{ "BLF-CRYPT", 1, "{BLF-CRYPT}$2y$04$" },
		{ "BLF-CRYPT", 6, "{BLF-CRYPT}$2y$06$" },
		{ "SHA256-CRYPT", 0, "{SHA256-CRYPT}$5$" },
		{ "SHA256-CRYPT", 10, "{SHA256-CRYPT}$5$rounds=1000$" },
		{ "SHA512-CRYPT", 5000, "{SHA512-CRYPT}$6$" },
		{ "SHA512-CRYPT", 5001, "{SHA512-CRYPT}$6$rounds=5001$" },
		{ "MD5-CRYPT", 9, "{MD5-CRYPT}$1$" },
		{ "MD5", 0, "{MD5}$1$" },
		{ "PBKDF2", 0, "{PBKDF2}$1$" },
		{ "SCRAM-SHA-1", 9999, "{SCRAM-SHA-1}4096," },
		{ "SCRAM-SHA-256", 0, "{SCRAM-SHA-256}4096," },
		{ "ARGON2I", 0, "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$" },
		{ "ARGON2ID", 0, "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$" },
		{ "ARGON2ID", 1, "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$" },
		{ "OTP", 5, "{OTP}sha1 1024 " },
	};
	const char *error;

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char *hash = password_generate(PW, cases[i].scheme, NULL,
					       cases[i].rounds, &error);

		ck_assert_ptr_nonnull(hash);
		ck_assert_msg(strncmp(hash, cases[i].prefix,
				      strlen(cases[i].prefix)) == 0,
			      "%s -r %u: %s", cases[i].scheme, cases[i].rounds,
			      hash);
		ck_assert_int_eq(password_verify(PW, hash, NULL, NULL, &error),
				 1);
		free(hash);
	}
	/* PBKDF2 writes the rounds it was given */
	char *hash = password_generate(PW, "PBKDF2", NULL, 7, &error);
	ck_assert_ptr_nonnull(strstr(hash, "$7$"));
	free(hash);
	/* DES: two salt characters, thirteen in all */
	hash = password_generate(PW, "DES-CRYPT", NULL, 0, &error);
	ck_assert_uint_eq(strlen(hash), strlen("{DES-CRYPT}") + 13);
	free(hash);
}
END_TEST

START_TEST(test_generate_errors)
{
	const char *error;

	ck_assert_ptr_null(password_generate(PW, "foo", NULL, 0, &error));
	ck_assert_str_eq(error, "Unknown scheme: FOO");
	ck_assert_ptr_null(password_generate(PW, "SHA.foo", NULL, 0, &error));
	ck_assert_str_eq(error, "Unknown scheme: SHA.FOO");
	ck_assert_ptr_null(password_generate(PW, "DIGEST-MD5", NULL, 0,
					     &error));
	ck_assert_str_eq(error, "digest_md5_generate(): username not given");
}
END_TEST

START_TEST(test_split)
{
	pool_t pool = pool_create("test", 1024);
	const char *scheme, *data;

	password_split(pool, "{sha.HEX}abc", "CRYPT", &scheme, &data);
	ck_assert_str_eq(scheme, "sha.HEX");
	ck_assert_str_eq(data, "abc");
	password_split(pool, "$1$salt$hash$junk", "PLAIN", &scheme, &data);
	ck_assert_str_eq(scheme, "MD5-CRYPT");
	ck_assert_str_eq(data, "$1$salt$hash");
	password_split(pool, "$1$nodollar", "PLAIN", &scheme, &data);
	ck_assert_str_eq(scheme, "PLAIN");
	ck_assert_str_eq(data, "$1$nodollar");
	password_split(pool, "$6$abc$def", "CRYPT", &scheme, &data);
	ck_assert_str_eq(scheme, "CRYPT");
	ck_assert_str_eq(data, "$6$abc$def");
	password_split(pool, "{PLAIN", NULL, &scheme, &data);
	ck_assert_ptr_null(scheme);
	ck_assert_str_eq(data, "{PLAIN");
	password_split(pool, "{}x", NULL, &scheme, &data);
	ck_assert_str_eq(scheme, "");
	ck_assert_str_eq(data, "x");
	password_split(pool, "{PLAIN}}x", NULL, &scheme, &data);
	ck_assert_str_eq(scheme, "PLAIN");
	ck_assert_str_eq(data, "}x");
	pool_destroy(&pool);
}
END_TEST

/* Without {SCHEME}, the passdb's default scheme applies. */
START_TEST(test_default_scheme)
{
	static const char *const sha512 =
		"$6$4p23YGEhScTKrIDG$WUzcZOQVnxFxq/fCbiUXAH.Y02OjKLJl1v3UMzHISRRkEpO9KWd7ZSPnEVCQl.0A8pVnKX4CkmHzrpx./8.8Z1";
	const char *error;

	ck_assert_int_eq(password_verify(PW, sha512, "CRYPT", NULL, &error), 1);
	ck_assert_int_eq(password_verify(PW, sha512, "SHA512-CRYPT", NULL,
					 &error), 1);
	/* as plaintext the hash is just a different password */
	ck_assert_int_eq(password_verify(PW, sha512, "PLAIN", NULL, &error), 0);
	ck_assert_int_eq(password_verify(sha512, sha512, "PLAIN", NULL,
					 &error), 1);
	ck_assert_int_eq(password_verify(PW, PW, "plain", NULL, &error), 1);
	ck_assert_int_eq(password_verify(PW, "5ebe2294ecd0e0f08eab7690d2a6ee69",
					 "MD5", NULL, &error), 1);
	/* $1$ is MD5-CRYPT whatever the default */
	ck_assert_int_eq(password_verify(PW, "$1$nrRUenPe$dg423cIDOW1FIO13Mbqm61",
					 "PLAIN", NULL, &error), 1);
	ck_assert_int_eq(password_verify(PW, PW, NULL, NULL, &error), -1);
	ck_assert_int_eq(password_verify(PW, PW, "NOPE", NULL, &error), -1);
	ck_assert_str_eq(error, "Unknown scheme NOPE");
}
END_TEST

/* Each *-CRYPT scheme checks any crypt(3) string, as in Dovecot 2.3. */
START_TEST(test_crypt_cross)
{
	static const char *const cases[][2] = {
		{ "SHA512-CRYPT", "$2y$05$9wNZ09FuEpdYkFbFieD50OZxiKq.aCq8vhPs8ttF06a1T9VHL2kZ." },
		{ "DES-CRYPT", "$1$nrRUenPe$dg423cIDOW1FIO13Mbqm61" },
		{ "SHA256-CRYPT", "GgsGpqkhcXsVw" },
		{ "CRYPT", "$y$j9T$abcdefghijklmnop$3dL1LkYnZM.OVXuVdnnaKVDlLYT92dRwOzDZ5XiVCe." },
		{ "CRYPT", "$2y$05$9wNZ09FuEpdYkFbFieD50OZxiKq.aCq8vhPs8ttF06a1T9VHL2kZ." },
		{ "MD5", "$1$nrRUenPe$dg423cIDOW1FIO13Mbqm61" },
		{ "MD5", "Xr4ilOzQ4PCOq3aQ0qbuaQ==" },
		{ "MD5", "5EBE2294ECD0E0F08EAB7690D2A6EE69" },
	};
	const char *error;
	char stored[256];

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		snprintf(stored, sizeof(stored), "{%s}%s", cases[i][0],
			 cases[i][1]);
		ck_assert_msg(password_verify(PW, stored, NULL, NULL,
					      &error) == 1, "%s: %s", stored,
			      error);
	}
	/* but MD5-CRYPT only ever matches $1$ */
	ck_assert_int_eq(password_verify(PW, "{MD5-CRYPT}GgsGpqkhcXsVw", NULL,
					 NULL, &error), 0);
}
END_TEST

/* Encodings: the suffix wins; without it a raw length of 2*n digits
 * means hex, else base64. */
START_TEST(test_encodings)
{
	static const char *const good[] = {
		"{SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4",
		"{SHA.hex}E5E9FA1BA31ECD1AE84F75CAAA474F3A663F05F4",
		"{sha1.HEX}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4",
		"{SHA.b64}5en6G6MezRroT3XKqkdPOmY/BfQ=",
		"{SHA.base64}5en6G6MezRroT3XKqkdPOmY/BfQ=",
		"{SHA}5en6G6MezRroT3XKqkdPOmY/BfR=",	/* trailing bits */
		"{SHA}5en6G6MezRro T3XKqkdPOmY/BfQ=",	/* whitespace */
		"{SHA}5en6G6MezRro\nT3XKqkdPOmY/BfQ=\t",
		"{PLAIN-MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==",
		"{LDAP-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69",
		"{PLAIN.b64}c2VjcmV0",
		"{PLAIN.hex}736563726574",
		"{CRAM-MD5}zTun3qrW5cojRIukLjeXR6ng9/H7wAyKgbuqw5VzG1Y=",
		"{PLAIN.b64}c2Vj\tcmV0\n",
		"{SHA512-CRYPT.b64}JDYkNHAyM1lHRWhTY1RLcklERyRXVXpjWk9RVm54RnhxL2ZDYmlVWEFILlkwMk9qS0xKbDF2M1VNekhJU1JSa0VwTzlLV2Q3WlNQbkVWQ1FsLjBBOHBWbktYNENrbUh6cnB4Li84LjhaMQ==",
	};
	const char *error;

	for (size_t i = 0; i < N_ELEMENTS(good); i++) {
		ck_assert_msg(password_verify(PW, good[i], NULL, NULL,
					      &error) == 1, "%s: %s", good[i],
			      error);
	}
}
END_TEST

START_TEST(test_aliases)
{
	ck_assert(password_scheme_is_alias("SHA", "sha1"));
	ck_assert(password_scheme_is_alias("CRAM-MD5", "HMAC-MD5.b64"));
	ck_assert(password_scheme_is_alias("PLAIN", "CLEARTEXT"));
	ck_assert(password_scheme_is_alias("PLAIN-TRUNC", "CLEAR"));
	ck_assert(password_scheme_is_alias("MD5", "MD5-CRYPT"));
	ck_assert(password_scheme_is_alias("LDAP-MD5", "PLAIN-MD5"));
	ck_assert(password_scheme_is_alias("CRYPT", "BLF-CRYPT"));
	ck_assert(password_scheme_is_alias("SSHA", "ssha"));
	ck_assert(!password_scheme_is_alias("SHA", "SHA256"));
	ck_assert(!password_scheme_is_alias("SHA512-CRYPT", "CRYPT"));
	ck_assert(!password_scheme_is_alias("DIGEST-MD5", "CRAM-MD5"));
	ck_assert(!password_scheme_is_alias("FOO", "FOO"));
	ck_assert(password_scheme_is_known("scram-sha-256"));
	ck_assert(password_scheme_is_known("SHA.hex"));
	ck_assert(!password_scheme_is_known("SHA.bin"));
	ck_assert(!password_scheme_is_known("ARGON2"));
	ck_assert(!password_scheme_is_known(""));
	ck_assert(password_scheme_needs_user("digest-md5"));
	ck_assert(!password_scheme_needs_user("CRAM-MD5"));
}
END_TEST

START_TEST(test_list_order)
{
	static const char *const dovecot_order =
		"SHA1 SSHA512 SCRAM-SHA-256 BLF-CRYPT PLAIN HMAC-MD5 OTP SHA512 "
		"SHA DES-CRYPT CRYPT SSHA MD5-CRYPT PLAIN-MD4 PLAIN-MD5 "
		"SCRAM-SHA-1 SHA512-CRYPT CLEAR CLEARTEXT ARGON2I ARGON2ID "
		"SSHA256 MD5 PBKDF2 SHA256 CRAM-MD5 PLAIN-TRUNC SHA256-CRYPT "
		"SMD5 DIGEST-MD5 LDAP-MD5 ";
	char buf[512] = "";

	for (const char *const *n = password_schemes_list(); *n != NULL; n++) {
		strcat(buf, *n); /* @UNSAFE: fixed list, buf is big enough */
		strcat(buf, " ");
	}
	ck_assert_str_eq(buf, dovecot_order);
}
END_TEST

/* The 32-byte CRAM-MD5 context resumes into RFC 2195's HMAC. */
static void load_md5_state(MD5_CTX *ctx, const unsigned char *p)
{
	MD5_LONG *w[4] = { &ctx->A, &ctx->B, &ctx->C, &ctx->D };

	memset(ctx, 0, sizeof(*ctx));
	for (unsigned int i = 0; i < 4; i++, p += 4)
		*w[i] = (MD5_LONG)p[0] | (MD5_LONG)p[1] << 8 |
			(MD5_LONG)p[2] << 16 | (MD5_LONG)p[3] << 24;
	ctx->Nl = 512;
}

START_TEST(test_credentials_cram_md5)
{
	static const char *const challenge =
		"<1896.697170952@postoffice.reston.mci.net>";
	unsigned char *cred, inner_digest[16], digest[16];
	char hex[33];
	const char *error;
	MD5_CTX inner, outer;
	size_t size;

	ck_assert_int_eq(password_get_credentials("{PLAIN}tanstaaftanstaaf",
						  NULL, "CRAM-MD5", "tim",
						  &cred, &size, &error), 1);
	ck_assert_uint_eq(size, 32);
	load_md5_state(&outer, cred);
	load_md5_state(&inner, cred + 16);
	MD5_Update(&inner, challenge, strlen(challenge));
	MD5_Final(inner_digest, &inner);
	MD5_Update(&outer, inner_digest, sizeof(inner_digest));
	MD5_Final(digest, &outer);
	for (unsigned int i = 0; i < 16; i++)
		snprintf(hex + i * 2, 3, "%02x", digest[i]);
	ck_assert_str_eq(hex, "b913a602c7eda7a495b4e6e7334d3890");
	free(cred);

	/* the stored CRAM-MD5 (or HMAC-MD5) hash is the same context */
	ck_assert_int_eq(password_get_credentials(
		"{HMAC-MD5}d06d4e1b26fccaa4b0b61801132340a354b21152711fb604ca3e035e7015116b",
		NULL, "CRAM-MD5", NULL, &cred, &size, &error), 1);
	ck_assert_uint_eq(size, 32);
	ck_assert_uint_eq(cred[0], 0xd0);
	ck_assert_uint_eq(cred[31], 0x6b);
	free(cred);
}
END_TEST

START_TEST(test_credentials)
{
	unsigned char *cred;
	const char *error;
	size_t size;
	char *stored;

	/* DIGEST-MD5 from plaintext: MD5(user:realm:pass) */
	ck_assert_int_eq(password_get_credentials(PW, "PLAIN", "DIGEST-MD5",
						  "alice@example.com", &cred,
						  &size, &error), 1);
	ck_assert_uint_eq(size, 16);
	ck_assert_uint_eq(cred[0], 0xb1);
	ck_assert_uint_eq(cred[15], 0x12);
	free(cred);
	ck_assert_int_eq(password_get_credentials(
		"{DIGEST-MD5}b1726872c344b6dc8365b774f8fd6412", NULL,
		"DIGEST-MD5", "whoever", &cred, &size, &error), 1);
	ck_assert_uint_eq(size, 16);
	ck_assert_uint_eq(cred[0], 0xb1);
	free(cred);
	ck_assert_int_eq(password_get_credentials("{PLAIN}x", NULL,
						  "DIGEST-MD5", NULL, &cred,
						  &size, &error), -1);

	/* SCRAM from plaintext: a fresh entry that checks */
	ck_assert_int_eq(password_get_credentials("{CLEAR}pencil", NULL,
						  "SCRAM-SHA-256", NULL, &cred,
						  &size, &error), 1);
	ck_assert_int_eq(cred[size], '\0');
	ck_assert(strncmp((char *)cred, "4096,", 5) == 0);
	stored = i_strdup_printf("{SCRAM-SHA-256}%s", cred);
	ck_assert_int_eq(password_verify("pencil", stored, NULL, NULL, &error),
			 1);
	free(stored);
	free(cred);
	/* a stored SCRAM entry comes back as it is */
	ck_assert_int_eq(password_get_credentials(
		"{SCRAM-SHA-1}4096,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,D+CSWLOshSulAsxiupA+qs2/fTE=",
		NULL, "SCRAM-SHA-1", NULL, &cred, &size, &error), 1);
	ck_assert_str_eq((char *)cred, "4096,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,D+CSWLOshSulAsxiupA+qs2/fTE=");
	free(cred);

	/* PLAIN-TRUNC gives the password after its length */
	ck_assert_int_eq(password_get_credentials("{PLAIN-TRUNC}6-secret",
						  NULL, "CRAM-MD5", NULL,
						  &cred, &size, &error), 1);
	ck_assert_uint_eq(cred[0], 0xcd);
	free(cred);

	/* no wanted scheme: the stored data decoded */
	ck_assert_int_eq(password_get_credentials("{SHA.hex}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4",
						  NULL, "", NULL, &cred, &size,
						  &error), 1);
	ck_assert_uint_eq(size, 20);
	free(cred);
	ck_assert_int_eq(password_get_credentials("secret", "PLAIN", NULL, NULL,
						  &cred, &size, &error), 1);
	ck_assert_str_eq((char *)cred, "secret");
	free(cred);

	/* a hash can't become another scheme */
	ck_assert_int_eq(password_get_credentials(
		"{SHA512-CRYPT}$6$4p23YGEhScTKrIDG$x", NULL, "CRAM-MD5", NULL,
		&cred, &size, &error), 0);
	ck_assert_str_eq(error, "Requested CRAM-MD5 scheme, but we have only SHA512-CRYPT");
	ck_assert_int_eq(password_get_credentials("$6$abc$def", "CRYPT",
						  "SCRAM-SHA-1", NULL, &cred,
						  &size, &error), 0);
	ck_assert_str_eq(error, "Requested SCRAM-SHA-1 scheme, but we have only CRYPT");
	ck_assert_int_eq(password_get_credentials("{PLAIN}x", NULL, "FOO",
						  NULL, &cred, &size, &error),
			 -1);
	ck_assert_str_eq(error, "Requested unknown scheme FOO");
	ck_assert_int_eq(password_get_credentials("{FOO}x", NULL, "CRAM-MD5",
						  NULL, &cred, &size, &error),
			 -1);
	ck_assert_str_eq(error, "Unknown scheme FOO");
	ck_assert_int_eq(password_get_credentials("{CRAM-MD5}abcd", NULL,
						  "CRAM-MD5", NULL, &cred,
						  &size, &error), -1);
	ck_assert_str_eq(error, "Password data is not valid for scheme CRAM-MD5: Input length isn't valid (3 instead of 32)");
}
END_TEST

/* ---- Limits ---- */

START_TEST(test_cost_limit)
{
	static const char *const expensive[] = {
		"{BLF-CRYPT}$2y$10$9wNZ09FuEpdYkFbFieD50OZxiKq.aCq8vhPs8ttF06a1T9VHL2kZ.",
		"{CRYPT}$2y$31$9wNZ09FuEpdYkFbFieD50OZxiKq.aCq8vhPs8ttF06a1T9VHL2kZ.",
		"{CRYPT}$6$rounds=999999999$abc$def",
		"{CRYPT}$y$j9T$abcdefghijklmnop$3dL1LkYnZM.OVXuVdnnaKVDlLYT92dRwOzDZ5XiVCe.",
		"{CRYPT}_J9..CCCCXBrJUJV154M",
		"{PBKDF2}$1$salt$4294967295$4b007901b765489abead49d926f721d065a429c1",
		"{SCRAM-SHA-1}2147483647,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,D+CSWLOshSulAsxiupA+qs2/fTE=",
		"{ARGON2ID}$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"{ARGON2I}$argon2i$v=19$m=256,t=100,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"{ARGON2I}$argon2i$v=19$m=256,t=1,p=64$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"{OTP}sha1 2000000000 test bb9e6ae1979d8ff4",
	};
	const char *error;

	password_schemes_limit_cost(true);
	for (size_t i = 0; i < N_ELEMENTS(expensive); i++) {
		ck_assert_msg(password_verify(PW, expensive[i], NULL, NULL,
					      &error) == -1, "%s", expensive[i]);
	}
	/* cheap ones still work */
	ck_assert_int_eq(password_verify("08/15!test~4711",
		"{BLF-CRYPT}$2a$04$0123456789abcdefABCDE.N.drYX5yIAL1LkTaaZotW3yI0hQhZru",
		NULL, NULL, &error), 1);
	ck_assert_int_eq(password_verify("password",
		"{ARGON2ID}$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		NULL, NULL, &error), 1);
	ck_assert_int_eq(password_verify("password",
		"{PBKDF2}$1$salt$4096$4b007901b765489abead49d926f721d065a429c1",
		NULL, NULL, &error), 1);
	password_schemes_limit_cost(false);
}
END_TEST

START_TEST(test_long_password)
{
	size_t len = 100 * 1024;
	char *plain = i_malloc(len + 1), *stored, *hash;
	const char *error;

	memset(plain, 'a', len);
	plain[len] = '\0';
	stored = i_strdup_printf("{PLAIN}%s", plain);
	ck_assert_int_eq(password_verify(plain, stored, NULL, NULL, &error), 1);
	plain[len - 1] = 'b';
	ck_assert_int_eq(password_verify(plain, stored, NULL, NULL, &error), 0);
	free(stored);
	static const char *const schemes[] = {
		"SSHA512", "CRAM-MD5", "SCRAM-SHA-1", "PBKDF2", "BLF-CRYPT",
		"PLAIN-MD4", "OTP",
	};
	for (size_t i = 0; i < N_ELEMENTS(schemes); i++) {
		hash = password_generate(plain, schemes[i], NULL, 0, &error);
		ck_assert_ptr_nonnull(hash);
		ck_assert_int_eq(password_verify(plain, hash, NULL, NULL,
						 &error), 1);
		free(hash);
	}
	/* libxcrypt refuses 512 bytes or more (Dovecot then writes the
	   useless hash "*0"); such a password never matches */
	ck_assert_ptr_null(password_generate(plain, "SHA512-CRYPT", NULL, 0,
					     &error));
	ck_assert_str_eq(error, "crypt() failed: Password is longer than 511 bytes");
	ck_assert_int_eq(password_verify(plain, "{CRYPT}GgsGpqkhcXsVw", NULL,
					 NULL, &error), 0);
	/* bcrypt reads 72 bytes: Dovecot's hash of 600 'a's */
	plain[600] = '\0';
	memset(plain, 'a', 600);
	ck_assert_int_eq(password_verify(plain,
		"{BLF-CRYPT}$2y$05$273Fjql2s1t.6HFBDBUjqepaBXtdVp5itq506T5R3XmKqirBpCUNS",
		NULL, NULL, &error), 1);
	plain[72] = '\0';
	ck_assert_int_eq(password_verify(plain,
		"{BLF-CRYPT}$2y$05$273Fjql2s1t.6HFBDBUjqepaBXtdVp5itq506T5R3XmKqirBpCUNS",
		NULL, NULL, &error), 1);
	plain[71] = '\0';
	ck_assert_int_eq(password_verify(plain,
		"{BLF-CRYPT}$2y$05$273Fjql2s1t.6HFBDBUjqepaBXtdVp5itq506T5R3XmKqirBpCUNS",
		NULL, NULL, &error), 0);
	free(plain);
}
END_TEST

/* PLAIN-TRUNC: "<n>-<password cut to n>" matches any longer plaintext
 * with that start. */
START_TEST(test_plain_trunc)
{
	const char *error;

	ck_assert_int_eq(password_verify("secret", "{PLAIN-TRUNC}6-secret",
					 NULL, NULL, &error), 1);
	ck_assert_int_eq(password_verify("secretxyz", "{PLAIN-TRUNC}6-secret",
					 NULL, NULL, &error), 1);
	ck_assert_int_eq(password_verify("secre", "{PLAIN-TRUNC}6-secret",
					 NULL, NULL, &error), 0);
	ck_assert_int_eq(password_verify("secr", "{PLAIN-TRUNC}6-secr",
					 NULL, NULL, &error), 1);
	/* a zero length matches anything, in Dovecot too */
	ck_assert_int_eq(password_verify("anything", "{PLAIN-TRUNC}0-",
					 NULL, NULL, &error), 1);
	ck_assert_int_eq(password_verify("secret", "{PLAIN-TRUNC}99999999999999999999999-secret",
					 NULL, NULL, &error), -1);
	ck_assert_int_eq(password_verify("x", "{PLAIN-TRUNC}secret", NULL,
					 NULL, &error), -1);
	ck_assert_str_eq(error, "Invalid password in passdb: PLAIN-TRUNC missing length: prefix");
}
END_TEST

/* ---- Malformed ---- */

/* Stored values that must give an error with Dovecot's text. */
START_TEST(test_malformed_errors)
{
	static const struct {
		const char *stored, *error;
	} cases[] = {
		{ "{FOO}x", "Unknown scheme FOO" },
		{ "{}x", "Unknown scheme " },
		{ "{SHA.foo}x", "Unknown scheme SHA.foo" },
		{ "{SHA}xx", "Password data is not valid for scheme SHA: Input isn't valid base64 encoded data" },
		{ "{SHA}!!!!", "Password data is not valid for scheme SHA: Input isn't valid base64 encoded data" },
		{ "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ", "Password data is not valid for scheme SHA: Input isn't valid base64 encoded data" },
		{ "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ==", "Password data is not valid for scheme SHA: Input isn't valid base64 encoded data" },
		{ "{SHA}5en6G6Me=zRroT3XKqkdPOmY/BfQ=", "Password data is not valid for scheme SHA: Input isn't valid base64 encoded data" },
		{ "{SHA}AAAA", "Password data is not valid for scheme SHA: Input length isn't valid (3 instead of 20)" },
		{ "{SHA.hex}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f", "Password data is not valid for scheme SHA.hex: Input isn't valid HEX encoded data" },
		{ "{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee6x", "Password data is not valid for scheme PLAIN-MD5: Input length isn't valid (24 instead of 16)" },
		{ "{DIGEST-MD5}", "Password data is not valid for scheme DIGEST-MD5: Input length isn't valid (0 instead of 16)" },
		{ "{SSHA}eSV6", "Invalid password in passdb: SSHA password is too short" },
		{ "{SSHA256}", "Invalid password in passdb: SSHA256 password is too short" },
		{ "{SMD5}AAAA", "Invalid password in passdb: SMD5 password is too short" },
		{ "{MD5}xx", "Invalid password in passdb: Not a valid MD5-CRYPT or PLAIN-MD5 password" },
		{ "{BLF-CRYPT}$6$abc", "Invalid password in passdb: Password is not blowfish password" },
		{ "{BLF-CRYPT}$2y$05$short", "Invalid password in passdb: Password is not blowfish password" },
		{ "{CRYPT}$2q$05$9wNZ09FuEpdYkFbFieD50OZxiKq.aCq8vhPs8ttF06a1T9VHL2kZ.", "Invalid password in passdb: crypt_blowfish_rn failed: Invalid argument" },
		{ "{PBKDF2}$2$x", "Invalid password in passdb: Invalid PBKDF2 passdb entry prefix" },
		{ "{PBKDF2}$1$salt$5000", "Invalid password in passdb: Invalid PBKDF2 passdb entry format" },
		{ "{PBKDF2}$1$salt$-1$4b007901b765489abead49d926f721d065a429c1", "Invalid password in passdb: Invalid PBKDF2 passdb entry format" },
		{ "{PBKDF2}$1$salt$99999999999$4b007901b765489abead49d926f721d065a429c1", "Invalid password in passdb: Invalid PBKDF2 passdb entry format" },
		{ "{PBKDF2}$1$salt$1$4b00", "Invalid password in passdb: PBKDF2 hash not 160bit hex-encoded" },
		{ "{PBKDF2}$1$salt$1$zz007901b765489abead49d926f721d065a429c1", "Invalid password in passdb: PBKDF2 hash not 160bit hex-encoded" },
		{ "{SCRAM-SHA-1}4096,a,b", "Invalid password in passdb: Invalid SCRAM-SHA-1 passdb entry format" },
		{ "{SCRAM-SHA-1}4096,a,b,c,d", "Invalid password in passdb: Invalid SCRAM-SHA-1 passdb entry format" },
		{ "{SCRAM-SHA-256}4095,a,b,c", "Invalid password in passdb: Invalid SCRAM-SHA-256 iteration count in passdb" },
		{ "{SCRAM-SHA-256}2147483648,a,b,c", "Invalid password in passdb: Invalid SCRAM-SHA-256 iteration count in passdb" },
		{ "{SCRAM-SHA-1}x4096,a,b,c", "Invalid password in passdb: Invalid SCRAM-SHA-1 iteration count in passdb" },
		{ "{SCRAM-SHA-1}4096,a,SI3u0zl6pEFSP2hQkg2=,c", "Invalid password in passdb: Invalid SCRAM-SHA-1 StoredKey in passdb" },
		{ "{SCRAM-SHA-256}4096,a,SI3u0zl6pEFSP2hQkg2/AWAbZ/o=,c", "Invalid password in passdb: Invalid SCRAM-SHA-256 StoredKey in passdb" },
		{ "{SCRAM-SHA-1}4096,a,SI3u0zl6pEFSP2hQkg2/AWAbZ/o=,", "Invalid password in passdb: Invalid SCRAM-SHA-1 ServerKey in passdb" },
		{ "{OTP}sha1 1024 f0934c805cb8bfdb", "Invalid password in passdb: Invalid OTP data in passdb" },
		{ "{OTP}SHA1 1024 f0934c805cb8bfdb 4dbdcee850aab354", "Invalid password in passdb: Invalid OTP data in passdb" },
		{ "{OTP}sha1 -1 f0934c805cb8bfdb 4dbdcee850aab354", "Invalid password in passdb: Invalid OTP data in passdb" },
		{ "{OTP}sha1 1024 f0934c805cb8bfdbX 4dbdcee850aab354", "Invalid password in passdb: Invalid OTP data in passdb" },
		{ "{OTP}", "Invalid password in passdb: Invalid OTP data in passdb" },
		{ "{PLAIN-TRUNC}", "Invalid password in passdb: PLAIN-TRUNC missing length: prefix" },
	};
	const char *error;

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		ck_assert_msg(password_verify(PW, cases[i].stored, NULL,
					      "u@r", &error) == -1, "%s",
			      cases[i].stored);
		ck_assert_str_eq(error, cases[i].error);
	}
}
END_TEST

/* Stored values that are well-formed enough to check and never match. */
START_TEST(test_malformed_mismatch)
{
	static const char *const cases[] = {
		"{PLAIN}", "{CRYPT}", "{CRYPT}xx", "{CRYPT}*0", "{CRYPT}$2y$",
		"{CRYPT}$6$", "{CRYPT}$y$", "{CRYPT}$99$abc", "{BLF-CRYPT}",
		"{DES-CRYPT}a", "{MD5-CRYPT}$1$", "{MD5-CRYPT}x", "{MD5}$1$",
		"{ARGON2I}garbage", "{ARGON2ID}$argon2id$",
		"{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$!!$!!",
		"{ARGON2ID}$argon2d$v=19$m=65536,t=3,p=1$Vb3vptxyb8KCZYuNpE4/nw$mwrQFPwU8QfzD32TYA9sqxYGHmHrRHzqOOd10QYQYfg",
		"{PBKDF2}$1$salt$0$4b007901b765489abead49d926f721d065a429c1",
		"{SCRAM-SHA-1}4096,!!!,SI3u0zl6pEFSP2hQkg2/AWAbZ/o=,/ZpMr2U2lLoVGmQSFSTLevJQo0s=",
		"{OTP}sha1 1024 f0934c805cb8bfdb 4dbdcee850aab354 trailing",
		"{OTP}sha1 01024 f0934c805cb8bfdb 4dbdcee850aab354",
	};
	const char *error;

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		ck_assert_msg(password_verify(PW, cases[i], NULL, NULL,
					      &error) == 0, "%s: %s", cases[i],
			      error);
	}
}
END_TEST

/* Every scheme with junk data: an answer, never a crash. Run under
 * SANITIZE=1 this is the bounds check. */
START_TEST(test_malformed_junk)
{
	static const char *const junk[] = {
		"", "$", "$$$$", "$1$", "$2y$", "$1$$$", "=", "====", "{", "}",
		",,,", ",,,,,,", "\t \n", "$argon2i$v=19$m=1,t=1,p=1$$",
		"$argon2id$v=99$m=8,t=1,p=1$AAAA$AAAA", "md4 0  0000000000000000",
		"sha1 1 x ", "4096,,,", "$1$a$1$", "\xff\xfe\x80", "0-", "-",
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	};
	const char *const *names = password_schemes_list();
	static const char *const suffixes[] = { "", ".b64", ".hex" };
	const char *error;
	char stored[512];
	unsigned char *cred;
	size_t size;

	password_schemes_limit_cost(true);
	for (; *names != NULL; names++) {
		for (size_t s = 0; s < N_ELEMENTS(suffixes); s++) {
			for (size_t i = 0; i < N_ELEMENTS(junk); i++) {
				snprintf(stored, sizeof(stored), "{%s%s}%s",
					 *names, suffixes[s], junk[i]);
				int ret = password_verify(PW, stored, NULL,
							  "u", &error);
				ck_assert_msg(ret >= -1 && ret <= 1, "%s",
					      stored);
				if (ret <= 0)
					ck_assert_ptr_nonnull(error);
				ret = password_get_credentials(
					stored, NULL, "CRAM-MD5", "u", &cred,
					&size, &error);
				if (ret > 0)
					free(cred);
			}
		}
	}
	password_schemes_limit_cost(false);
}
END_TEST

/* Decoded data with a NUL inside ends there (Dovecot copies it as a C
 * string) and is otherwise handled, not overread. */
START_TEST(test_malformed_nul)
{
	unsigned char *raw;
	const char *error;
	size_t size;

	/* "se\0cret" */
	ck_assert_int_eq(password_decode("c2UAY3JldA==", "PLAIN.b64", &raw,
					 &size, &error), 1);
	ck_assert_uint_eq(size, 7);
	ck_assert_int_eq(raw[size], '\0');
	free(raw);
	ck_assert_int_eq(password_verify("se", "{PLAIN.b64}c2UAY3JldA==", NULL,
					 NULL, &error), 0);
	ck_assert_int_eq(password_verify("se", "{CRYPT.b64}c2UAY3JldA==", NULL,
					 NULL, &error), 0);
	ck_assert_int_eq(password_verify("se", "{SCRAM-SHA-1.b64}c2UAY3JldA==",
					 NULL, NULL, &error), -1);
	ck_assert_int_eq(password_decode("x", "NOPE", &raw, &size, &error), 0);
	ck_assert_str_eq(error, "Unknown scheme");
	ck_assert_int_eq(password_verify_raw("x", "NOPE", (const void *)"x", 1,
					     NULL, &error), -1);
}
END_TEST

Suite *make_password_scheme_suite(void)
{
	Suite *s = suite_create("password_scheme");
	TCase *tc = tcase_create("Core");

	tcase_add_test(tc, test_dovecot_made);
	tcase_add_test(tc, test_published_vectors);
	tcase_add_test(tc, test_generate_deterministic);
	tcase_add_test(tc, test_generate_roundtrip);
	tcase_add_test(tc, test_generate_rounds);
	tcase_add_test(tc, test_generate_errors);
	tcase_add_test(tc, test_split);
	tcase_add_test(tc, test_default_scheme);
	tcase_add_test(tc, test_crypt_cross);
	tcase_add_test(tc, test_encodings);
	tcase_add_test(tc, test_aliases);
	tcase_add_test(tc, test_list_order);
	tcase_add_test(tc, test_credentials_cram_md5);
	tcase_add_test(tc, test_credentials);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_test(tc, test_cost_limit);
	tcase_add_test(tc, test_long_password);
	tcase_add_test(tc, test_plain_trunc);
	suite_add_tcase(s, tc);

	tc = tcase_create("Malformed");
	tcase_add_test(tc, test_malformed_errors);
	tcase_add_test(tc, test_malformed_mismatch);
	tcase_add_test(tc, test_malformed_junk);
	tcase_add_test(tc, test_malformed_nul);
	suite_add_tcase(s, tc);
	return s;
}
