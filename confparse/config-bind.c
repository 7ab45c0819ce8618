/* config-bind.c - typed structs from settings trees: one generic walk
 * over the schema with each field's offset from the generated tables. */
#include "config-bind.h"
#include "config-value.h"

struct bind_ctx {
	pool_t pool;
	const struct config_node *root;
	const char *error;
};

static void *bind_node(struct bind_ctx *ctx, const struct config_node *node);

/* "$default_internal_user" → that top-level setting's value. */
static const char *resolve_ref(struct bind_ctx *ctx, const char *value)
{
	int idx;

	if (value[0] != '$')
		return value;
	idx = setting_info_find(ctx->root->info, value + 1);
	if (idx < 0 || ctx->root->slots[idx].value == NULL)
		return value;
	return ctx->root->slots[idx].value;
}

static int bind_scalar(struct bind_ctx *ctx, const struct setting_def *def,
		       const char *value, void *field)
{
	const char *error;
	unsigned int num;
	uint64_t big;
	bool b;

	switch (def->type) {
	case SET_STR:
	case SET_ENUM:
		*(const char **)field = resolve_ref(ctx, value);
		return 0;
	case SET_BOOL:
		if (config_parse_bool(value, &b, &error) < 0)
			break;
		*(bool *)field = b;
		return 0;
	case SET_UINT:
	case SET_PORT:
		if (config_parse_uint(value, &num, &error) < 0)
			break;
		*(unsigned int *)field = num;
		return 0;
	case SET_OCT:
		num = 0;
		for (const char *p = value; *p >= '0' && *p <= '7'; p++)
			num = num * 8 + (unsigned int)(*p - '0');
		*(unsigned int *)field = num;
		return 0;
	case SET_SIZE:
		if (config_parse_size(value, &big, &error) < 0)
			break;
		*(uint64_t *)field = big;
		return 0;
	case SET_TIME:
	case SET_MSECS:
		if (config_parse_time(value, def->type == SET_MSECS, &big,
				      &error) < 0 || big > UINT32_MAX)
			break;
		*(unsigned int *)field = (unsigned int)big;
		return 0;
	case SET_DEFLIST:
	case SET_STRLIST:
		i_unreached();
	}
	ctx->error = p_strdup_printf(ctx->pool, "%s: unexpected stored value "
				     "'%s'", def->key, value);
	return -1;
}

static void *bind_node(struct bind_ctx *ctx, const struct config_node *node)
{
	const struct setting_info *info = node->info;
	char *set = p_malloc(ctx->pool, info->struct_size);

	for (unsigned int i = 0; i < info->count; i++) {
		const struct setting_def *def = &info->defs[i];
		const struct config_slot *slot = &node->slots[i];
		void *field = set + info->offsets[i];

		if (def->type == SET_DEFLIST) {
			void **children = p_new(ctx->pool, void *,
						slot->child_count + 1);

			for (unsigned int j = 0; j < slot->child_count; j++) {
				children[j] = bind_node(ctx, slot->children[j]);
				if (children[j] == NULL)
					return NULL;
			}
			*(void ***)field = children;
			/* the count follows the pointer in the struct */
			*(unsigned int *)((char *)field + sizeof(void *)) =
				slot->child_count;
		} else if (def->type == SET_STRLIST) {
			const char **pairs = p_new(ctx->pool, const char *,
						   slot->pair_count + 1);

			if (slot->pair_count > 0)
				memcpy(pairs, slot->pairs,
				       sizeof(*pairs) * slot->pair_count);
			*(const char ***)field = pairs;
			*(unsigned int *)((char *)field + sizeof(void *)) =
				slot->pair_count / 2;
		} else if (bind_scalar(ctx, def, slot->value, field) < 0) {
			return NULL;
		}
	}
	return set;
}

struct settings_root *config_bind(pool_t pool, const struct config_node *root,
				  const char **error_r)
{
	struct bind_ctx ctx = { .pool = pool, .root = root };
	struct settings_root *set = bind_node(&ctx, root);

	if (set == NULL)
		*error_r = ctx.error;
	return set;
}

struct settings_root *config_bind_filter(pool_t pool, struct config *config,
					 const struct config_filter *filter,
					 const char **error_r)
{
	struct config_node *root;

	if (config_get_merged(config, filter, &root, error_r) < 0)
		return NULL;
	return config_bind(pool, root, error_r);
}
