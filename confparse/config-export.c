/* config-export.c - walks a settings tree in schema order, emitting the
 * settings a dump scope asks for. */
#include "config-export.h"
#include "str.h"

struct export_ctx {
	pool_t pool;
	enum config_dump_scope scope;
	bool hide_list_defaults, show_hidden;
	config_export_callback *callback;
	void *context;
	string_t *prefix;
};

static void export_node(struct export_ctx *ctx, const struct config_node *node,
			bool parent_unique);

static void export_list(struct export_ctx *ctx, const struct setting_def *def,
			const struct config_slot *slot)
{
	string_t *ids;
	size_t prefix_len = str_len(ctx->prefix);
	const char *key;

	if (slot->child_count == 0)
		return;
	ids = str_new(128);
	for (unsigned int i = 0; i < slot->child_count; i++) {
		if (i > 0)
			str_append_c(ids, ' ');
		str_append(ids, config_node_list_id(ctx->pool,
						    slot->children[i], i));
	}
	key = p_strdup_printf(ctx->pool, "%s%s", str_c(ctx->prefix), def->key);
	ctx->callback(key, str_c(ids), CONFIG_KEY_LIST, ctx->context);
	str_free(&ids);

	for (unsigned int i = 0; i < slot->child_count; i++) {
		const struct config_node *child = slot->children[i];

		str_printfa(ctx->prefix, "%s/%s/", def->key,
			    config_node_list_id(ctx->pool, child, i));
		export_node(ctx, child, child->info->key_idx >= 0);
		str_truncate(ctx->prefix, prefix_len);
	}
}

static void export_strlist(struct export_ctx *ctx,
			   const struct setting_def *def,
			   const struct config_slot *slot)
{
	const char *key;

	if (!slot->present && slot->pair_count == 0)
		return;
	key = p_strdup_printf(ctx->pool, "%s%s", str_c(ctx->prefix), def->key);
	ctx->callback(key, "", CONFIG_KEY_LIST, ctx->context);
	for (unsigned int i = 0; i < slot->pair_count; i += 2) {
		key = p_strdup_printf(ctx->pool, "%s%s/%s", str_c(ctx->prefix),
				      def->key, slot->pairs[i]);
		ctx->callback(key, slot->pairs[i + 1], CONFIG_KEY_NORMAL,
			      ctx->context);
	}
}

static void export_node(struct export_ctx *ctx, const struct config_node *node,
			bool parent_unique)
{
	for (unsigned int i = 0; i < node->info->count; i++) {
		const struct setting_def *def = &node->info->defs[i];
		const struct config_slot *slot = &node->slots[i];
		const char *default_value = def->default_value;
		bool dump_default = false, is_key = (int)i == node->info->key_idx;

		if (def->type == SET_DEFLIST) {
			export_list(ctx, def, slot);
			continue;
		}
		if (def->type == SET_STRLIST) {
			export_strlist(ctx, def, slot);
			continue;
		}
		switch (ctx->scope) {
		case CONFIG_DUMP_SCOPE_ALL:
			dump_default = true;
			break;
		case CONFIG_DUMP_SCOPE_SET:
			dump_default = slot->changed;
			break;
		case CONFIG_DUMP_SCOPE_CHANGED:
			break;
		}
		if (parent_unique && ctx->hide_list_defaults) {
			if (!slot->changed && !is_key)
				default_value = slot->value;
			else if (slot->changed)
				dump_default = true;
		}
		/* doveconf -n always shows these two in a namespace */
		if (ctx->hide_list_defaults &&
		    node->info_id == INFO_NAMESPACE &&
		    (strcmp(def->key, "location") == 0 ||
		     strcmp(def->key, "prefix") == 0))
			dump_default = true;
		/* Dovecot 2.3.19's doveconf -n shows this one whenever the
		   file sets it, even to its default */
		if (ctx->scope == CONFIG_DUMP_SCOPE_CHANGED && slot->changed &&
		    strcmp(def->key, "submission_max_mail_size") == 0)
			dump_default = true;
		if (!dump_default && strcmp(slot->value, default_value) == 0)
			continue;
		if ((def->flags & SET_FLAG_HIDDEN) != 0 && !slot->changed &&
		    !ctx->show_hidden)
			continue;
		ctx->callback(p_strdup_printf(ctx->pool, "%s%s",
					      str_c(ctx->prefix), def->key),
			      slot->value,
			      is_key && parent_unique ? CONFIG_KEY_UNIQUE_KEY :
			      CONFIG_KEY_NORMAL, ctx->context);
	}
}

static bool export_show_hidden;

void config_export_set_show_hidden(bool show)
{
	export_show_hidden = show;
}

void config_export(pool_t pool, const struct config_node *root,
		   enum config_dump_scope scope, bool hide_list_defaults,
		   config_export_callback *callback, void *context)
{
	struct export_ctx ctx = {
		.pool = pool,
		.scope = scope,
		.hide_list_defaults = hide_list_defaults,
		.show_hidden = export_show_hidden,
		.callback = callback,
		.context = context,
		.prefix = str_new(128),
	};

	export_node(&ctx, root, false);
	str_free(&ctx.prefix);
}
