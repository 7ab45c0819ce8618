/* auth-fields.c - ordered key=value extra fields of passdb/userdb replies,
 * and the TAB escaping Dovecot's auth protocols use for their values.
 * Everything lives in the caller's pool; there is no free. */
#include "auth-fields.h"
#include "str.h"

/* Dovecot's tab escaping (str_tabescape): \001 is the escape character. */
#define TABESCAPE_CHAR '\001'

struct auth_field {
	const char *key;
	const char *value;	/* NULL: a bare flag */
};

struct auth_fields {
	pool_t pool;
	struct auth_field *v;
	unsigned int count, cap;
};

struct auth_fields *auth_fields_new(pool_t pool)
{
	struct auth_fields *fields = p_new(pool, struct auth_fields, 1);

	fields->pool = pool;
	return fields;
}

static int auth_fields_find(const struct auth_fields *fields, const char *key)
{
	for (unsigned int i = 0; i < fields->count; i++) {
		if (strcmp(fields->v[i].key, key) == 0)
			return (int)i;
	}
	return -1;
}

void auth_fields_set(struct auth_fields *fields, const char *key,
		     const char *value)
{
	int idx = auth_fields_find(fields, key);
	const char *dup_value = value == NULL ? NULL :
		p_strdup(fields->pool, value);

	i_assert(key != NULL && *key != '\0');
	if (idx >= 0) {
		fields->v[idx].value = dup_value;
		return;
	}
	if (fields->count == fields->cap) {
		/* pool memory is never given back: double to keep the
		   waste of the old arrays bounded */
		unsigned int new_cap = fields->cap == 0 ? 8 : fields->cap * 2;

		i_assert(new_cap > fields->cap);
		fields->v = p_realloc(fields->pool, fields->v,
				      size_mul(fields->cap,
					       sizeof(*fields->v)),
				      size_mul(new_cap, sizeof(*fields->v)));
		fields->cap = new_cap;
	}
	fields->v[fields->count].key = p_strdup(fields->pool, key);
	fields->v[fields->count].value = dup_value;
	fields->count++;
}

void auth_fields_remove(struct auth_fields *fields, const char *key)
{
	int idx = auth_fields_find(fields, key);

	if (idx < 0)
		return;
	memmove(&fields->v[idx], &fields->v[idx + 1],
		(fields->count - (unsigned int)idx - 1) * sizeof(*fields->v));
	fields->count--;
}

const char *auth_fields_get(const struct auth_fields *fields, const char *key)
{
	int idx = auth_fields_find(fields, key);

	if (idx < 0)
		return NULL;
	return fields->v[idx].value == NULL ? "" : fields->v[idx].value;
}

bool auth_fields_exists(const struct auth_fields *fields, const char *key)
{
	return auth_fields_find(fields, key) >= 0;
}

unsigned int auth_fields_count(const struct auth_fields *fields)
{
	return fields->count;
}

void auth_fields_get_idx(const struct auth_fields *fields, unsigned int idx,
			 const char **key_r, const char **value_r)
{
	i_assert(idx < fields->count);
	*key_r = fields->v[idx].key;
	*value_r = fields->v[idx].value;
}

void auth_fields_import(struct auth_fields *fields, const char *str)
{
	while (*str != '\0') {
		const char *end, *eq;

		while (*str == ' ')
			str++;
		if (*str == '\0')
			break;
		end = strchr(str, ' ');
		if (end == NULL)
			end = str + strlen(str);
		eq = memchr(str, '=', (size_t)(end - str));
		if (eq == str) {
			/* "=value" has no key: nothing to set */
		} else if (eq == NULL) {
			auth_fields_set(fields, p_strndup(fields->pool,
					str, (size_t)(end - str)), NULL);
		} else {
			auth_fields_set(fields, p_strndup(fields->pool,
					str, (size_t)(eq - str)),
					p_strndup(fields->pool, eq + 1,
						       (size_t)(end - eq - 1)));
		}
		str = end;
	}
}

void auth_fields_merge(struct auth_fields *dest,
		       const struct auth_fields *src, const char *prefix,
		       bool strip_prefix)
{
	size_t prefix_len = prefix == NULL ? 0 : strlen(prefix);
	/* dest may be src: don't walk into the fields added here */
	unsigned int count = src->count;

	for (unsigned int i = 0; i < count; i++) {
		const char *key = src->v[i].key;

		if (prefix_len > 0) {
			if (strncmp(key, prefix, prefix_len) != 0)
				continue;
			if (strip_prefix) {
				key += prefix_len;
				if (*key == '\0')
					continue;
			}
		}
		auth_fields_set(dest, key, src->v[i].value);
	}
}

const char *auth_tabescape(pool_t pool, const char *str)
{
	string_t *dest;
	const char *p;

	for (p = str; *p != '\0'; p++) {
		if (*p == TABESCAPE_CHAR || *p == '\t' || *p == '\n' ||
		    *p == '\r')
			break;
	}
	if (*p == '\0')
		return p_strdup(pool, str);

	dest = str_new(strlen(str) + 16);
	str_append_n(dest, str, (size_t)(p - str));
	for (; *p != '\0'; p++) {
		switch (*p) {
		case TABESCAPE_CHAR:
			str_append_c(dest, TABESCAPE_CHAR);
			str_append_c(dest, '1');
			break;
		case '\t':
			str_append_c(dest, TABESCAPE_CHAR);
			str_append_c(dest, 't');
			break;
		case '\n':
			str_append_c(dest, TABESCAPE_CHAR);
			str_append_c(dest, 'n');
			break;
		case '\r':
			str_append_c(dest, TABESCAPE_CHAR);
			str_append_c(dest, 'r');
			break;
		default:
			str_append_c(dest, *p);
			break;
		}
	}
	p = p_strdup(pool, str_c(dest));
	str_free(&dest);
	return p;
}

const char *auth_tabunescape(pool_t pool, const char *str)
{
	char *dest, *d;
	const char *p = strchr(str, TABESCAPE_CHAR);

	if (p == NULL)
		return p_strdup(pool, str);

	dest = p_strdup(pool, str);
	d = dest + (p - str);
	for (; *p != '\0'; p++) {
		if (*p != TABESCAPE_CHAR) {
			*d++ = *p;
			continue;
		}
		switch (p[1]) {
		case '\0':
			/* a trailing escape char stands for itself */
			*d++ = *p;
			continue;
		case '1':
			*d++ = TABESCAPE_CHAR;
			break;
		case 't':
			*d++ = '\t';
			break;
		case 'n':
			*d++ = '\n';
			break;
		case 'r':
			*d++ = '\r';
			break;
		default:
			/* unknown: the escaped character itself, as Dovecot */
			*d++ = p[1];
			break;
		}
		p++;
	}
	*d = '\0';
	return dest;
}

void auth_str_append_tabescaped(string_t *dest, const char *str)
{
	pool_t pool = pool_create("auth escape", 256);

	str_append(dest, auth_tabescape(pool, str));
	pool_destroy(&pool);
}

unsigned int auth_split_tabs(char *line, char **args, unsigned int max)
{
	unsigned int n = 0;

	while (n < max) {
		char *tab = strchr(line, '\t');

		args[n++] = line;
		if (tab == NULL)
			break;
		*tab = '\0';
		line = tab + 1;
	}
	return n;
}

/* Fields a client or doveadm sees in OK/PASS: not userdb_* nor the
 * internal ones. */
static bool field_is_public(const char *key)
{
	static const char *const internal[] = {
		"user", "password", "nopassword", "allow_nets", "nodelay",
		NULL
	};

	if (strncmp(key, "userdb_", 7) == 0)
		return false;
	for (unsigned int i = 0; internal[i] != NULL; i++) {
		if (strcmp(internal[i], key) == 0)
			return false;
	}
	return true;
}

void auth_append_public_fields(string_t *dest, const struct auth_fields *f)
{
	bool any = false, first = true;

	/* Dovecot writes a TAB whenever the passdb returned extra fields,
	   even if none of them is shown: "OK<TAB>1<TAB>user=alice<TAB>"
	   (also for a user= that passwd, shadow and pam set); password,
	   nopassword and allow_nets are not extra fields there */
	for (unsigned int i = 0; i < auth_fields_count(f) && !any; i++) {
		const char *key, *value;

		auth_fields_get_idx(f, i, &key, &value);
		any = strcmp(key, "password") != 0 &&
			strcmp(key, "nopassword") != 0 &&
			strcmp(key, "allow_nets") != 0;
	}
	if (!any)
		return;
	str_append_c(dest, '\t');
	for (unsigned int i = 0; i < auth_fields_count(f); i++) {
		const char *key, *value;

		auth_fields_get_idx(f, i, &key, &value);
		if (!field_is_public(key))
			continue;
		if (!first)
			str_append_c(dest, '\t');
		first = false;
		auth_str_append_tabescaped(dest, key);
		if (value != NULL) {
			str_append_c(dest, '=');
			auth_str_append_tabescaped(dest, value);
		}
	}
}
