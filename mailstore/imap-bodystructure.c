/* imap-bodystructure.c - BODY / BODYSTRUCTURE output from the part tree
 * and each part's message_part_data. */
#include "imap-bodystructure.h"
#include "imap-envelope.h"
#include "imap-quote.h"

#include <inttypes.h>
#include <strings.h>

#define EMPTY_BODY "(\"text\" \"plain\" (\"charset\" \"us-ascii\") " \
	"NIL NIL \"7bit\" 0 0"

static void write_params(string_t *str, const struct mime_param *params,
			 unsigned int count, bool default_charset)
{
	bool seen_charset = false;
	unsigned int i;

	if (count == 0 && !default_charset) {
		str_append(str, "NIL");
		return;
	}
	str_append_c(str, '(');
	for (i = 0; i < count; i++) {
		if (i > 0)
			str_append_c(str, ' ');
		if (strcasecmp(params[i].name, "charset") == 0)
			seen_charset = true;
		imap_append_string(str, params[i].name);
		str_append_c(str, ' ');
		imap_append_string(str, params[i].value);
	}
	if (default_charset && !seen_charset) {
		if (i > 0)
			str_append_c(str, ' ');
		str_append(str, "\"charset\" \"us-ascii\"");
	}
	str_append_c(str, ')');
}

/* disposition, language, location */
static void write_common_ext(string_t *str, const struct message_part_data *d)
{
	const char *const *lang;

	str_append_c(str, ' ');
	if (d->content_disposition == NULL) {
		str_append(str, "NIL");
	} else {
		str_append_c(str, '(');
		imap_append_string(str, d->content_disposition);
		str_append_c(str, ' ');
		write_params(str, d->content_disposition_params,
			     d->content_disposition_params_count, false);
		str_append_c(str, ')');
	}
	str_append_c(str, ' ');
	if (d->content_language == NULL) {
		str_append(str, "NIL");
	} else {
		str_append_c(str, '(');
		for (lang = d->content_language; *lang != NULL; lang++) {
			if (lang != d->content_language)
				str_append_c(str, ' ');
			imap_append_string(str, *lang);
		}
		str_append_c(str, ')');
	}
	str_append_c(str, ' ');
	imap_append_nstring_nolf(str, d->content_location);
}

static void write_multipart(const struct message_part *part, string_t *str,
			    bool extended)
{
	const struct message_part_data *d = part->data;
	const struct message_part *child;

	if (part->children == NULL) {
		str_append(str, EMPTY_BODY);
		str_append(str, extended ? " NIL NIL NIL NIL)" : ")");
	}
	for (child = part->children; child != NULL; child = child->next)
		imap_bodystructure_write(child, str, extended);
	str_append_c(str, ' ');
	imap_append_nstring(str, d->content_subtype);
	if (!extended)
		return;
	str_append_c(str, ' ');
	write_params(str, d->content_type_params,
		     d->content_type_params_count, false);
	write_common_ext(str, d);
}

/* "type" "subtype"; returns whether the part counts as text. */
static bool write_type(const struct message_part *part, string_t *str)
{
	const struct message_part_data *d = part->data;

	if ((part->flags & MESSAGE_PART_FLAG_MESSAGE_RFC822) != 0) {
		str_append(str, "\"message\" \"rfc822\"");
		return false;
	}
	/* a container left unparsed (limits, or "multipart" with no
	   usable subtype) must not look like one */
	if ((part->flags & MESSAGE_PART_FLAG_OVERFLOW) != 0 ||
	    (d->content_type != NULL &&
	     strcasecmp(d->content_type, "multipart") == 0)) {
		str_append(str, "\"application\" \"octet-stream\"");
		return false;
	}
	if (d->content_type == NULL) {
		str_append(str, "\"text\" \"plain\"");
		return true;
	}
	imap_append_string(str, d->content_type);
	str_append_c(str, ' ');
	imap_append_string(str, d->content_subtype);
	return strcasecmp(d->content_type, "text") == 0;
}

static void write_leaf(const struct message_part *part, string_t *str,
		       bool extended)
{
	const struct message_part_data *d = part->data;
	bool text = write_type(part, str);

	str_append_c(str, ' ');
	write_params(str, d->content_type_params,
		     d->content_type_params_count, text);
	str_append_c(str, ' ');
	imap_append_nstring_nolf(str, d->content_id);
	str_append_c(str, ' ');
	imap_append_nstring_nolf(str, d->content_description);
	str_append_c(str, ' ');
	if (d->content_transfer_encoding != NULL)
		imap_append_string(str, d->content_transfer_encoding);
	else
		str_append(str, "\"7bit\"");
	str_printfa(str, " %" PRIu64, part->body_size.virtual_size);
	if (text) {
		str_printfa(str, " %" PRIu64, part->body_size.lines);
	} else if ((part->flags & MESSAGE_PART_FLAG_MESSAGE_RFC822) != 0 &&
		   part->children != NULL) {
		str_append_c(str, ' ');
		imap_envelope_write(part->children->data->envelope, str);
		str_append_c(str, ' ');
		imap_bodystructure_write(part->children, str, extended);
		str_printfa(str, " %" PRIu64, part->body_size.lines);
	}
	if (!extended)
		return;
	str_append_c(str, ' ');
	imap_append_nstring_nolf(str, d->content_md5);
	write_common_ext(str, d);
}

void imap_bodystructure_write(const struct message_part *part,
			      string_t *dest, bool extended)
{
	str_append_c(dest, '(');
	if ((part->flags & MESSAGE_PART_FLAG_MULTIPART) != 0)
		write_multipart(part, dest, extended);
	else
		write_leaf(part, dest, extended);
	str_append_c(dest, ')');
}
