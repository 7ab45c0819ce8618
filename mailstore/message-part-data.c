/* message-part-data.c - Content-* and envelope fields of one part, read
 * with Dovecot 2.3's rules (observed through IMAP BODYSTRUCTURE). */
#include "message-part-data.h"
#include "array.h"

#include <limits.h>
#include <strings.h>

/* The value as the parsers see it: CR of CRLF dropped. */
static string_t *full_value(const struct message_header_line *line)
{
	string_t *str = str_new(line->value_len + 1);

	message_header_value_get(line, str);
	return str;
}

static void parse_content_type(pool_t pool, struct message_part_data *d,
			       const string_t *value)
{
	struct rfc822_parser parser;
	string_t *str = str_new(64);
	const char *slash;
	int ret;

	rfc822_parser_init(&parser, str_c(value), str_len(value), NULL);
	(void)rfc822_skip_lwsp(&parser);
	ret = rfc822_parse_content_type(&parser, str);
	/* even a broken value keeps what was read */
	slash = strchr(str_c(str), '/');
	if (slash == NULL) {
		d->content_type = p_strdup(pool, str_c(str));
		d->content_subtype = "";
	} else {
		d->content_type = p_strndup(pool, str_c(str),
					    (size_t)(slash - str_c(str)));
		d->content_subtype = p_strdup(pool, slash + 1);
	}
	str_free(&str);
	if (ret > 0) {
		struct mime_param *params;

		(void)rfc2231_parse(&parser, pool, &params,
				    &d->content_type_params_count);
		d->content_type_params = params;
	}
}

static void parse_cte(pool_t pool, struct message_part_data *d,
		      const string_t *value)
{
	struct rfc822_parser parser;
	string_t *str = str_new(32);

	rfc822_parser_init(&parser, str_c(value), str_len(value), NULL);
	(void)rfc822_skip_lwsp(&parser);
	if (rfc822_parse_mime_token(&parser, str) >= 0 &&
	    rfc822_skip_lwsp(&parser) == 0 && str_len(str) > 0)
		d->content_transfer_encoding = p_strdup(pool, str_c(str));
	str_free(&str);
}

static void parse_disposition(pool_t pool, struct message_part_data *d,
			      const string_t *value)
{
	struct rfc822_parser parser;
	string_t *str = str_new(32);
	struct mime_param *params;

	rfc822_parser_init(&parser, str_c(value), str_len(value), NULL);
	(void)rfc822_skip_lwsp(&parser);
	if (rfc822_parse_mime_token(&parser, str) >= 0) {
		d->content_disposition = p_strdup(pool, str_c(str));
		(void)rfc2231_parse(&parser, pool, &params,
				    &d->content_disposition_params_count);
		d->content_disposition_params = params;
	}
	str_free(&str);
}

static void parse_language(pool_t pool, struct message_part_data *d,
			   const string_t *value)
{
	struct rfc822_parser parser;
	string_t *str = str_new(32);
	ARRAY(const char *) langs = ARRAY_INIT;
	const char **list;

	rfc822_parser_init(&parser, str_c(value), str_len(value), NULL);
	(void)rfc822_skip_lwsp(&parser);
	while (parser.data < parser.end) {
		str_truncate(str, 0);
		if (rfc822_parse_mime_token(&parser, str) < 0 ||
		    str_len(str) == 0)
			break;
		array_push(&langs, p_strdup(pool, str_c(str)));
		if (parser.data >= parser.end || *parser.data != ',')
			break;
		parser.data++;
		(void)rfc822_skip_lwsp(&parser);
	}
	if (langs.count > 0) {
		list = p_new(pool, const char *, langs.count + 1);
		memcpy(list, langs.v, langs.count * sizeof(*list));
		d->content_language = list;
	}
	array_free(&langs);
	str_free(&str);
}

/* Content-ID, -Description, -MD5, -Location: the raw value. */
static void set_raw(pool_t pool, const char **dest, const string_t *value)
{
	if (*dest == NULL)
		*dest = message_header_strdup(pool, str_c(value),
					      str_len(value));
}

static void parse_content_field(pool_t pool, struct message_part_data *d,
				const char *name, const string_t *value)
{
	if (strcasecmp(name, "Type") == 0) {
		if (d->content_type == NULL)
			parse_content_type(pool, d, value);
	} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
		if (d->content_transfer_encoding == NULL)
			parse_cte(pool, d, value);
	} else if (strcasecmp(name, "Disposition") == 0) {
		if (d->content_disposition == NULL)
			parse_disposition(pool, d, value);
	} else if (strcasecmp(name, "Language") == 0) {
		if (d->content_language == NULL)
			parse_language(pool, d, value);
	} else if (strcasecmp(name, "ID") == 0) {
		set_raw(pool, &d->content_id, value);
	} else if (strcasecmp(name, "Description") == 0) {
		set_raw(pool, &d->content_description, value);
	} else if (strcasecmp(name, "MD5") == 0) {
		set_raw(pool, &d->content_md5, value);
	} else if (strcasecmp(name, "Location") == 0) {
		set_raw(pool, &d->content_location, value);
	}
}

enum message_cte message_cte_parse(const void *value, size_t size)
{
	static const struct {
		const char *name;
		enum message_cte cte;
	} names[] = {
		{ "7bit", MESSAGE_CTE_78BIT }, { "8bit", MESSAGE_CTE_78BIT },
		{ "binary", MESSAGE_CTE_BINARY },
		{ "base64", MESSAGE_CTE_BASE64 },
		{ "quoted-printable", MESSAGE_CTE_QP },
	};
	struct rfc822_parser parser;
	string_t *str = str_new(32);
	enum message_cte cte = MESSAGE_CTE_UNKNOWN;
	unsigned int i;

	rfc822_parser_init(&parser, value, size, NULL);
	(void)rfc822_skip_lwsp(&parser);
	if (rfc822_parse_mime_token(&parser, str) < 0 ||
	    rfc822_skip_lwsp(&parser) != 0) {
		/* "base64 junk" is no base64 */
		str_free(&str);
		return MESSAGE_CTE_UNKNOWN;
	}
	for (i = 0; i < N_ELEMENTS(names); i++) {
		if (strcasecmp(str_c(str), names[i].name) == 0 &&
		    strlen(names[i].name) == str_len(str))
			cte = names[i].cte;
	}
	str_free(&str);
	return cte;
}

static struct message_address **
envelope_address_field(struct message_part_envelope *env, const char *name)
{
	if (strcasecmp(name, "From") == 0)
		return &env->from;
	if (strcasecmp(name, "Sender") == 0)
		return &env->sender;
	if (strcasecmp(name, "Reply-To") == 0)
		return &env->reply_to;
	if (strcasecmp(name, "To") == 0)
		return &env->to;
	if (strcasecmp(name, "Cc") == 0)
		return &env->cc;
	if (strcasecmp(name, "Bcc") == 0)
		return &env->bcc;
	return NULL;
}

static const char **
envelope_string_field(struct message_part_envelope *env, const char *name)
{
	if (strcasecmp(name, "Date") == 0)
		return &env->date;
	if (strcasecmp(name, "Subject") == 0)
		return &env->subject;
	if (strcasecmp(name, "Message-ID") == 0)
		return &env->message_id;
	if (strcasecmp(name, "In-Reply-To") == 0)
		return &env->in_reply_to;
	return NULL;
}

static void address_append(struct message_address **list,
			   struct message_address *addr)
{
	while (*list != NULL)
		list = &(*list)->next;
	*list = addr;
}

void message_part_envelope_add_header(pool_t pool,
				      struct message_part_envelope **_env,
				      const struct message_header_line *line)
{
	struct message_part_envelope *env;
	struct message_address **addr_p;
	const char **str_p;
	char name[16];
	string_t *value;

	if (*_env == NULL)
		*_env = p_new(pool, struct message_part_envelope, 1);
	env = *_env;
	if (line->name_len >= sizeof(name) || line->no_colon)
		return;
	/* @UNSAFE: name_len checked against the buffer above */
	memcpy(name, line->name, line->name_len);
	name[line->name_len] = '\0';
	addr_p = envelope_address_field(env, name);
	str_p = envelope_string_field(env, name);
	if (addr_p == NULL && str_p == NULL)
		return;
	value = full_value(line);
	if (addr_p != NULL) {
		address_append(addr_p, message_address_parse(pool,
			str_c(value), str_len(value), UINT_MAX,
			MESSAGE_ADDRESS_PARSE_FLAG_FILL_MISSING));
	} else {
		*str_p = message_header_strdup(pool, str_c(value),
					       str_len(value));
	}
	str_free(&value);
}

void message_part_data_add_header(pool_t pool, struct message_part *part,
				  const struct message_header_line *line,
				  bool envelope_wanted)
{
	struct message_part_data *d = part->data;
	char name[64];

	if (envelope_wanted)
		message_part_envelope_add_header(pool, &d->envelope, line);
	if (line->name_len < 8 || line->name_len >= sizeof(name) ||
	    line->no_colon ||
	    strncasecmp((const char *)line->name, "Content-", 8) != 0)
		return;
	/* @UNSAFE: name_len checked against the buffer above */
	memcpy(name, line->name, line->name_len);
	name[line->name_len] = '\0';
	if (memchr(name, '\0', line->name_len) != NULL)
		return;

	string_t *value = full_value(line);

	/* BINARY decodes with the last field (BODYSTRUCTURE shows the
	   first valid one): Dovecot's two readers differ */
	if (strcasecmp(name + 8, "Transfer-Encoding") == 0) {
		/* ... and knows no folded value */
		d->cte = memchr(line->value, '\n', line->value_len) != NULL ?
			MESSAGE_CTE_UNKNOWN :
			message_cte_parse(str_c(value), str_len(value));
		d->cte_seen = true;
	}
	parse_content_field(pool, d, name + 8, value);
	str_free(&value);
}

void message_part_data_finish(struct message_part *part)
{
	struct message_part_data *d = part->data;
	struct message_part_envelope *env = d->envelope;
	enum message_cte cte = d->cte;
	bool cte_seen = d->cte_seen;

	if ((part->flags & MESSAGE_PART_FLAG_IS_MIME) != 0)
		return;
	memset(d, 0, sizeof(*d));
	d->envelope = env;
	d->cte = cte;
	d->cte_seen = cte_seen;
}
