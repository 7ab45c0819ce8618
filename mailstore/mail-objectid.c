/* mail-objectid.c - EMAILID and THREADID (see mail-objectid.h). */
#include "mail-objectid.h"

#include <string.h>

/* 64-bit FNV-1a of size bytes, starting from seed */
static uint64_t fnv1a(const unsigned char *data, size_t size, uint64_t seed)
{
	uint64_t h = seed;

	for (size_t i = 0; i < size; i++) {
		h ^= data[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* prefix + 24 hex digits: 64 bits of one hash and 32 of another */
static const char *hash_id(pool_t pool, char prefix,
			   const unsigned char *data, size_t size)
{
	return p_strdup_printf(pool, "%c%016llx%08llx", prefix,
		(unsigned long long)fnv1a(data, size, 0xcbf29ce484222325ULL),
		(unsigned long long)(fnv1a(data, size, 0x84222325cbf29ce4ULL ^
					   size) & 0xffffffffULL));
}

/* Both ids depend on the message's (immutable) content only, so they
   are kept in the mailbox's cache (roost.cache) once computed: a SEARCH
   EMAILID/THREADID over a big mailbox reads each message once. */
#define CACHE_EMAILID "objectid.emailid"
#define CACHE_THREADID "objectid.threadid"

static const char *cached(pool_t pool, struct mail *mail, const char *field)
{
	const char *value;

	if (mail_get_cached_field(mail, field, &value) < 0 || value == NULL ||
	    !mail_objectid_is_valid(value))
		return NULL;
	return p_strdup(pool, value);
}

const char *mail_objectid_emailid(pool_t pool, struct mail *mail)
{
	const unsigned char *data;
	const char *id;
	size_t size;

	if ((id = cached(pool, mail, CACHE_EMAILID)) != NULL)
		return id;
	if (mail_get_stream(mail, &data, &size) < 0)
		return NULL;
	id = hash_id(pool, 'M', data, size);
	mail_set_cached_field(mail, CACHE_EMAILID, id);
	return id;
}

/* The first "<left@right>" of a header value, blanks inside dropped,
   into dest. false if there is none. */
static bool first_msgid(const char *value, string_t *dest)
{
	const char *s = value, *end;

	while (s != NULL && (s = strchr(s, '<')) != NULL) {
		end = strpbrk(s + 1, "<>");
		if (end == NULL)
			return false;
		if (*end == '<') {
			s = end;
			continue;
		}
		str_truncate(dest, 0);
		for (const char *c = s + 1; c < end; c++) {
			if (*c != ' ' && *c != '\t' && *c != '\r' && *c != '\n')
				str_append_c(dest, *c);
		}
		if (str_len(dest) > 0 && strchr(str_c(dest), '@') != NULL)
			return true;
		s = end + 1;
	}
	return false;
}

const char *mail_objectid_threadid(pool_t pool, struct mail *mail)
{
	static const char *const fields[] = {
		"References", "In-Reply-To", "Message-ID"
	};
	const char *value, *ret;
	string_t *id;

	if ((ret = cached(pool, mail, CACHE_THREADID)) != NULL)
		return ret;
	id = str_new(64);

	for (size_t i = 0; i < N_ELEMENTS(fields) && ret == NULL; i++) {
		if (mail_get_first_header(mail, fields[i], &value) < 0) {
			str_free(&id);
			return NULL;
		}
		if (value != NULL && first_msgid(value, id)) {
			ret = hash_id(pool, 'T',
				      (const unsigned char *)str_c(id),
				      str_len(id));
		}
	}
	str_free(&id);
	if (ret == NULL) {
		const char *emailid = mail_objectid_emailid(pool, mail);

		if (emailid == NULL)
			return NULL;
		ret = p_strdup_printf(pool, "T%s", emailid + 1);
	}
	mail_set_cached_field(mail, CACHE_THREADID, ret);
	return ret;
}

bool mail_objectid_is_valid(const char *str)
{
	size_t len = strlen(str);

	if (len == 0 || len > 255)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)str[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}
