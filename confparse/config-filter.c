/* config-filter.c - protocol/local/remote/local_name filters: matching a
 * connection, and merging the matching blocks into one settings tree. */
#include "config-parser.h"

#include <fnmatch.h>
#include <stdio.h>
#include <strings.h>

static bool match_protocol(const struct config_filter *mask,
			   const struct config_filter *filter)
{
	if (mask->protocol == NULL)
		return true;
	if (filter->protocol == NULL)
		return false;
	if (mask->protocol[0] == '!')
		return strcmp(filter->protocol, mask->protocol + 1) != 0;
	return strcmp(filter->protocol, mask->protocol) == 0;
}

/* local_name may list several names, with "*." wildcards. */
static bool match_local_name(const char *names, const char *name)
{
	char buf[1024];
	char *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", names);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		if (fnmatch(tok, name, FNM_CASEFOLD) == 0)
			return true;
	}
	return false;
}

static bool match_rest(const struct config_filter *mask,
		       const struct config_filter *filter)
{
	if (mask->local_name != NULL) {
		if (filter->local_name == NULL ||
		    !match_local_name(mask->local_name, filter->local_name))
			return false;
	}
	if (mask->remote_bits != 0) {
		if (filter->remote_bits == 0 ||
		    !net_is_in_network(&filter->remote_net, &mask->remote_net,
				       mask->remote_bits))
			return false;
	}
	if (mask->local_bits != 0) {
		if (filter->local_bits == 0 ||
		    !net_is_in_network(&filter->local_net, &mask->local_net,
				       mask->local_bits))
			return false;
	}
	return true;
}

bool config_filter_match(const struct config_filter *mask,
			 const struct config_filter *filter)
{
	return match_protocol(mask, filter) && match_rest(mask, filter);
}

bool config_filters_equal(const struct config_filter *f1,
			  const struct config_filter *f2)
{
	if (null_strcmp(f1->protocol, f2->protocol) != 0)
		return false;
	if (f1->remote_bits != f2->remote_bits ||
	    !net_ip_compare(&f1->remote_net, &f2->remote_net))
		return false;
	if (f1->local_bits != f2->local_bits ||
	    !net_ip_compare(&f1->local_net, &f2->local_net))
		return false;
	if (f1->local_name == NULL || f2->local_name == NULL)
		return f1->local_name == f2->local_name;
	return strcasecmp(f1->local_name, f2->local_name) == 0;
}

int config_filter_parse_arg(pool_t pool, struct config_filter *filter,
			    const char *arg, const char **error_r)
{
	const char *value = strchr(arg, '=');
	const char *key, *error;

	if (value == NULL) {
		key = arg;
		value = "";
	} else {
		key = p_strndup(pool, arg, (size_t)(value - arg));
		value++;
	}
	if (strcmp(key, "service") == 0 || strcmp(key, "protocol") == 0) {
		filter->protocol = p_strdup(pool, value);
	} else if (strcmp(key, "lname") == 0) {
		filter->local_name = p_strdup(pool, value);
	} else if (strcmp(key, "local") == 0 || strcmp(key, "remote") == 0) {
		bool local = key[0] == 'l';

		if (net_parse_range(value, local ? &filter->local_net :
				    &filter->remote_net,
				    local ? &filter->local_bits :
				    &filter->remote_bits, &error) < 0) {
			*error_r = p_strdup_printf(pool, "%s filter: %s", key,
						   error);
			return -1;
		}
	} else {
		*error_r = p_strdup_printf(pool, "Unknown filter argument: %s",
					   arg);
		return -1;
	}
	return 0;
}

/* Most specific first: local_name, local bits, remote bits, protocol. */
static int block_cmp(const struct config_block *b1,
		     const struct config_block *b2)
{
	const struct config_filter *f1 = &b1->filter, *f2 = &b2->filter;

	if ((f1->local_name != NULL) != (f2->local_name != NULL))
		return f1->local_name != NULL ? -1 : 1;
	if (f1->local_bits != f2->local_bits)
		return f1->local_bits > f2->local_bits ? -1 : 1;
	if (f1->remote_bits != f2->remote_bits)
		return f1->remote_bits > f2->remote_bits ? -1 : 1;
	if ((f1->protocol != NULL) != (f2->protocol != NULL))
		return f1->protocol != NULL ? -1 : 1;
	return 0;
}

/* Stable insertion sort (block counts are small). */
static void sort_blocks(struct config_block **blocks, unsigned int count,
			bool reverse)
{
	for (unsigned int i = 1; i < count; i++) {
		struct config_block *b = blocks[i];
		unsigned int j = i;

		while (j > 0 && (reverse ? -block_cmp(blocks[j - 1], b) :
				 block_cmp(blocks[j - 1], b)) > 0) {
			blocks[j] = blocks[j - 1];
			j--;
		}
		blocks[j] = b;
	}
}

static bool filter_is_superset(const struct config_filter *sup,
			       const struct config_filter *filter)
{
	if (sup->local_bits > filter->local_bits)
		return false;
	if (sup->remote_bits > filter->remote_bits)
		return false;
	if (sup->local_name != NULL && filter->local_name == NULL)
		return false;
	if (sup->protocol != NULL && filter->protocol == NULL)
		return false;
	return true;
}

struct merge_ctx {
	pool_t pool;
	bool check_conflicts;
	const char *conflict_key;
};

/* A list entry that only a less specific block has is copied with its
 * values, but not as "changed": Dovecot's merge keeps no change flags
 * for entries the more specific block lacks, so doveconf -n does not
 * print them. */
static struct config_node *copy_unchanged(pool_t pool,
					  const struct config_node *src)
{
	struct config_node *node = config_node_dup(pool, src);

	config_node_clear_changes(node);
	return node;
}

static void append_child(pool_t pool, struct config_node *dest,
			 unsigned int slot_idx, const struct config_node *src)
{
	struct config_node *child = config_node_add_child(pool, dest, slot_idx);

	*child = *copy_unchanged(pool, src);
}

static int merge_node(struct merge_ctx *ctx, struct config_node *dest,
		      const struct config_node *src);

/* The entry of a unique list with exactly this name: unlike reopening a
 * section while parsing, Dovecot's merge compares names with case. */
static struct config_node *find_child_exact(const struct config_node *node,
					    unsigned int slot_idx,
					    const char *name)
{
	const struct config_slot *slot = &node->slots[slot_idx];

	for (unsigned int i = 0; i < slot->child_count; i++) {
		const struct config_node *child = slot->children[i];
		int key = child->info->key_idx;

		if (key >= 0 && strcmp(child->slots[key].value, name) == 0)
			return slot->children[i];
	}
	return NULL;
}

/* Unique lists (service, namespace ...) merge entries by name; others
 * (passdb, userdb) get src's entries after their own. */
static int merge_list(struct merge_ctx *ctx, struct config_node *dest,
		      unsigned int slot_idx, const struct config_slot *s)
{
	for (unsigned int j = 0; j < s->child_count; j++) {
		const struct config_node *sc = s->children[j];
		struct config_node *dc = NULL;
		int key = sc->info->key_idx;

		if (key >= 0 && sc->slots[key].value[0] != '\0')
			dc = find_child_exact(dest, slot_idx,
					      sc->slots[key].value);
		if (dc == NULL)
			append_child(ctx->pool, dest, slot_idx, sc);
		else if (merge_node(ctx, dc, sc) < 0)
			return -1;
	}
	return 0;
}

/* Copy what src changed into dest where dest did not change it. Both
 * changing a setting is a conflict when the blocks are unrelated, even
 * with equal values (as in Dovecot). */
static int merge_node(struct merge_ctx *ctx, struct config_node *dest,
		      const struct config_node *src)
{
	for (unsigned int i = 0; i < src->info->count; i++) {
		const struct setting_def *def = &src->info->defs[i];
		const struct config_slot *s = &src->slots[i];
		struct config_slot *d = &dest->slots[i];

		if (def->type == SET_STRLIST) {
			d->present = d->present || s->present;
			for (unsigned int j = 0; j < s->pair_count; j += 2) {
				if (config_node_strlist_get(d, s->pairs[j]) ==
				    NULL)
					config_node_strlist_set(ctx->pool, d,
						s->pairs[j], s->pairs[j + 1]);
			}
			continue;
		}
		if (def->type == SET_DEFLIST) {
			if (merge_list(ctx, dest, i, s) < 0)
				return -1;
			continue;
		}
		if (!s->changed)
			continue;
		if (d->changed) {
			if (ctx->check_conflicts) {
				ctx->conflict_key = def->key;
				return -1;
			}
			continue;
		}
		d->value = s->value;
		d->changed = true;
	}
	return 0;
}

int config_get_merged_pool(struct config *config,
			   const struct config_filter *filter, pool_t pool,
			   struct config_node **root_r, const char **error_r)
{
	struct config_block **matches =
		p_new(pool, struct config_block *, config->block_count);
	unsigned int count = 0;
	struct merge_ctx ctx;

	for (unsigned int i = 0; i < config->block_count; i++) {
		if (config_filter_match(&config->blocks[i]->filter, filter))
			matches[count++] = config->blocks[i];
	}
	sort_blocks(matches, count, false);
	*root_r = config_node_dup(pool, matches[0]->root);
	memset(&ctx, 0, sizeof(ctx));
	ctx.pool = pool;
	for (unsigned int i = 1; i < count; i++) {
		ctx.check_conflicts = !filter_is_superset(
			&matches[i]->filter, &matches[i - 1]->filter);
		if (merge_node(&ctx, *root_r, matches[i]->root) < 0) {
			*error_r = p_strdup_printf(pool,
				"Conflict in setting %s found from filter at %s",
				ctx.conflict_key, matches[i]->file_and_line);
			return -1;
		}
	}
	return 0;
}

int config_get_merged(struct config *config, const struct config_filter *filter,
		      struct config_node **root_r, const char **error_r)
{
	return config_get_merged_pool(config, filter, config->pool, root_r,
				      error_r);
}

unsigned int config_get_subset(struct config *config,
			       const struct config_filter *filter,
			       struct config_block ***blocks_r)
{
	struct config_block **matches =
		p_new(config->pool, struct config_block *, config->block_count);
	unsigned int count = 0;

	for (unsigned int i = 1; i < config->block_count; i++) {
		struct config_filter mask = config->blocks[i]->filter;

		if (filter->protocol != NULL && !match_protocol(&mask, filter))
			continue;
		if (filter->local_name == NULL)
			mask.local_name = NULL;
		if (filter->local_bits == 0)
			mask.local_bits = 0;
		if (filter->remote_bits == 0)
			mask.remote_bits = 0;
		if (match_rest(&mask, filter))
			matches[count++] = config->blocks[i];
	}
	sort_blocks(matches, count, true);
	*blocks_r = matches;
	return count;
}
