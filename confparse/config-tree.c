/* config-tree.c - settings trees built from the schema tables. */
#include "config-tree.h"
#include "str.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* Each info's setting indexes sorted by key, built on first use, for a
 * binary search: lookups by name are the parser's and checks' hot path. */
static unsigned int *sorted_idx[INFO_COUNT];
static const struct setting_info *sort_info;

static int sort_idx_cmp(const void *p1, const void *p2)
{
	unsigned int i1 = *(const unsigned int *)p1;
	unsigned int i2 = *(const unsigned int *)p2;

	return strcmp(sort_info->defs[i1].key, sort_info->defs[i2].key);
}

static const unsigned int *setting_info_sorted(const struct setting_info *info)
{
	size_t id = (size_t)(info - setting_infos);

	i_assert(id < INFO_COUNT);
	if (sorted_idx[id] == NULL) {
		unsigned int *idx = i_new(unsigned int, info->count + 1);

		for (unsigned int i = 0; i < info->count; i++)
			idx[i] = i;
		sort_info = info;
		qsort(idx, info->count, sizeof(*idx), sort_idx_cmp);
		sorted_idx[id] = idx;
	}
	return sorted_idx[id];
}

int setting_info_find(const struct setting_info *info, const char *key)
{
	const unsigned int *idx = setting_info_sorted(info);
	unsigned int lo = 0, hi = info->count;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		int cmp = strcmp(key, info->defs[idx[mid]].key);

		if (cmp == 0)
			return (int)idx[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

struct config_node *config_node_new(pool_t pool, enum setting_info_id info_id)
{
	struct config_node *node = p_new(pool, struct config_node, 1);

	node->info_id = info_id;
	node->info = &setting_infos[info_id];
	node->slots = p_new(pool, struct config_slot, node->info->count);
	for (unsigned int i = 0; i < node->info->count; i++) {
		const struct setting_def *def = &node->info->defs[i];

		if (def->type != SET_DEFLIST && def->type != SET_STRLIST)
			node->slots[i].value = def->default_value;
	}
	return node;
}

static void slot_grow_children(pool_t pool, struct config_slot *slot)
{
	unsigned int new_cap;

	if (slot->child_count < slot->child_cap)
		return;
	new_cap = slot->child_cap == 0 ? 4 : slot->child_cap * 2;
	slot->children = p_realloc(pool, slot->children,
				   sizeof(*slot->children) * slot->child_cap,
				   sizeof(*slot->children) * new_cap);
	slot->child_cap = new_cap;
}

struct config_node *config_node_add_child(pool_t pool, struct config_node *node,
					  unsigned int slot_idx)
{
	struct config_slot *slot = &node->slots[slot_idx];
	const struct setting_def *def = &node->info->defs[slot_idx];
	struct config_node *child;

	i_assert(def->type == SET_DEFLIST);
	child = config_node_new(pool, (enum setting_info_id)def->list_info);
	slot_grow_children(pool, slot);
	slot->children[slot->child_count++] = child;
	return child;
}

struct config_node *config_node_dup(pool_t pool, const struct config_node *node)
{
	struct config_node *dup = p_new(pool, struct config_node, 1);

	*dup = *node;
	dup->slots = p_new(pool, struct config_slot, node->info->count);
	for (unsigned int i = 0; i < node->info->count; i++) {
		const struct config_slot *src = &node->slots[i];
		struct config_slot *dst = &dup->slots[i];

		*dst = *src;
		dst->children = NULL;
		dst->child_count = dst->child_cap = 0;
		for (unsigned int j = 0; j < src->child_count; j++) {
			slot_grow_children(pool, dst);
			dst->children[dst->child_count++] =
				config_node_dup(pool, src->children[j]);
		}
		if (src->pair_count > 0) {
			dst->pairs = p_new(pool, const char *, src->pair_cap);
			memcpy(dst->pairs, src->pairs,
			       sizeof(*src->pairs) * src->pair_count);
		}
	}
	return dup;
}

void config_node_clear_changes(struct config_node *node)
{
	for (unsigned int i = 0; i < node->info->count; i++) {
		struct config_slot *slot = &node->slots[i];

		slot->changed = false;
		for (unsigned int j = 0; j < slot->child_count; j++)
			config_node_clear_changes(slot->children[j]);
	}
}

void config_node_strlist_set(pool_t pool, struct config_slot *slot,
			     const char *key, const char *value)
{
	for (unsigned int i = 0; i < slot->pair_count; i += 2) {
		if (strcmp(slot->pairs[i], key) == 0) {
			slot->pairs[i + 1] = p_strdup(pool, value);
			return;
		}
	}
	if (slot->pair_count + 2 > slot->pair_cap) {
		unsigned int new_cap = slot->pair_cap == 0 ? 8 :
			slot->pair_cap * 2;

		slot->pairs = p_realloc(pool, slot->pairs,
					sizeof(*slot->pairs) * slot->pair_cap,
					sizeof(*slot->pairs) * new_cap);
		slot->pair_cap = new_cap;
	}
	slot->pairs[slot->pair_count++] = p_strdup(pool, key);
	slot->pairs[slot->pair_count++] = p_strdup(pool, value);
}

const char *config_node_strlist_get(const struct config_slot *slot,
				    const char *key)
{
	for (unsigned int i = 0; i < slot->pair_count; i += 2) {
		if (strcmp(slot->pairs[i], key) == 0)
			return slot->pairs[i + 1];
	}
	return NULL;
}

const char *settings_section_escape(pool_t pool, const char *name)
{
	string_t *str = str_new(strlen(name) + 8);
	const char *ret;

	for (; *name != '\0'; name++) {
		switch (*name) {
		case '=': str_append(str, "\\e"); break;
		case '/': str_append(str, "\\s"); break;
		case '\\': str_append(str, "\\\\"); break;
		case ' ': str_append(str, "\\_"); break;
		case ',': str_append(str, "\\+"); break;
		default: str_append_c(str, *name); break;
		}
	}
	ret = p_strndup(pool, str_c(str), str_len(str));
	str_free(&str);
	return ret;
}

const char *settings_section_unescape(pool_t pool, const char *name)
{
	string_t *str = str_new(strlen(name) + 1);
	const char *ret;

	for (; *name != '\0'; name++) {
		if (*name != '\\' || name[1] == '\0') {
			str_append_c(str, *name);
			continue;
		}
		name++;
		switch (*name) {
		case 'e': str_append_c(str, '='); break;
		case 's': str_append_c(str, '/'); break;
		case '_': str_append_c(str, ' '); break;
		case '+': str_append_c(str, ','); break;
		default: str_append_c(str, *name); break;
		}
	}
	ret = p_strndup(pool, str_c(str), str_len(str));
	str_free(&str);
	return ret;
}

const char *config_node_list_id(pool_t pool, const struct config_node *child,
				unsigned int idx)
{
	const char *name;

	if (child->info->key_idx < 0)
		return p_strdup_printf(pool, "%u", idx);
	name = child->slots[child->info->key_idx].value;
	if (name == NULL || name[0] == '\0')
		return p_strdup_printf(pool, "%u", idx);
	return settings_section_escape(pool, name);
}

struct config_node *config_node_find_child(const struct config_node *node,
					   unsigned int slot_idx,
					   const char *name)
{
	const struct config_slot *slot = &node->slots[slot_idx];

	for (unsigned int i = 0; i < slot->child_count; i++) {
		struct config_node *child = slot->children[i];
		int key = child->info->key_idx;

		/* Dovecot matches section names case-insensitively */
		if (key >= 0 && strcasecmp(child->slots[key].value, name) == 0)
			return child;
	}
	return NULL;
}

/* Find the child of a list whose path id (escaped name or index) is id. */
static struct config_node *
node_child_by_id(pool_t pool, struct config_node *node, unsigned int slot_idx,
		 const char *id)
{
	struct config_slot *slot = &node->slots[slot_idx];

	for (unsigned int i = 0; i < slot->child_count; i++) {
		if (strcmp(config_node_list_id(pool, slot->children[i], i),
			   id) == 0)
			return slot->children[i];
	}
	return NULL;
}

bool config_node_lookup(struct config_node *root, const char *path,
			struct config_node **node_r, unsigned int *idx_r)
{
	pool_t pool = pool_create("config lookup", 512);
	struct config_node *node = root;
	char *copy = p_strdup(pool, path), *key, *id, *save = NULL;
	bool ret = false;
	int idx;

	key = strtok_r(copy, "/", &save);
	while (key != NULL) {
		idx = setting_info_find(node->info, key);
		if (idx < 0)
			break;
		id = strtok_r(NULL, "/", &save);
		if (id == NULL ||
		    node->info->defs[idx].type == SET_STRLIST) {
			*node_r = node;
			*idx_r = (unsigned int)idx;
			ret = id == NULL;
			break;
		}
		if (node->info->defs[idx].type != SET_DEFLIST)
			break;
		node = node_child_by_id(pool, node, (unsigned int)idx, id);
		if (node == NULL)
			break;
		key = strtok_r(NULL, "/", &save);
	}
	pool_destroy(&pool);
	return ret;
}

struct config_node *config_node_lookup_node(struct config_node *root,
					    const char *path)
{
	pool_t pool = pool_create("config lookup", 512);
	struct config_node *node = root;
	char *copy = p_strdup(pool, path), *key, *id, *save = NULL;
	int idx;

	for (key = strtok_r(copy, "/", &save); key != NULL && node != NULL;
	     key = strtok_r(NULL, "/", &save)) {
		idx = setting_info_find(node->info, key);
		id = strtok_r(NULL, "/", &save);
		if (idx < 0 || id == NULL ||
		    node->info->defs[idx].type != SET_DEFLIST)
			node = NULL;
		else
			node = node_child_by_id(pool, node, (unsigned int)idx,
						id);
	}
	pool_destroy(&pool);
	return node;
}

const char *config_node_get(struct config_node *root, const char *path)
{
	struct config_node *node;
	unsigned int idx;

	if (!config_node_lookup(root, path, &node, &idx))
		return NULL;
	return node->slots[idx].value;
}

/* Create the built-in services and listeners of settings.tsv. */
static void config_node_add_default_instances(pool_t pool,
					      struct config_node *root)
{
	const struct setting_instance *inst;

	for (inst = setting_default_instances; inst->path != NULL; inst++) {
		struct config_node *node;
		unsigned int idx;
		const char *slash = strrchr(inst->path, '/');

		i_assert(slash != NULL);
		if (!inst->create) {
			if (!config_node_lookup(root, inst->path, &node, &idx))
				i_panic("default instance %s not found",
					inst->path);
			node->slots[idx].value = inst->value;
			continue;
		}
		/* "service/auth/unix_listener/login\slogin" */
		char *parent = p_strndup(pool, inst->path,
					 (size_t)(slash - inst->path));
		const char *list = strrchr(parent, '/');
		struct config_node *child;

		if (list == NULL) {
			node = root;
			list = parent;
		} else {
			char *ppath = p_strndup(pool, parent,
						(size_t)(list - parent));
			node = config_node_lookup_node(root, ppath);
			if (node == NULL)
				i_panic("default instance %s not found", ppath);
			list++;
		}
		int slot = setting_info_find(node->info, list);
		i_assert(slot >= 0);
		child = config_node_add_child(pool, node, (unsigned int)slot);
		if (child->info->key_idx >= 0) {
			child->slots[child->info->key_idx].value =
				settings_section_unescape(pool, slash + 1);
		}
	}
}

struct config_node *config_node_new_root(pool_t pool)
{
	/* built once, then copied: every filter block needs one */
	static pool_t proto_pool;
	static struct config_node *proto;

	if (proto == NULL) {
		proto_pool = pool_create("config default root", 64 * 1024);
		proto = config_node_new(proto_pool, INFO_ROOT);
		config_node_add_default_instances(proto_pool, proto);
	}
	return config_node_dup(pool, proto);
}
