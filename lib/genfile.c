/* genfile.c - the in-process registry of generated files (genfile.h). */
#include "lib.h"
#include "genfile.h"

#include <string.h>

struct genfile {
	char *kind, *path, *text;
};

static struct genfile *files;
static unsigned int files_count;

void genfile_register(const char *kind, const char *path, const char *text)
{
	for (unsigned int i = 0; i < files_count; i++) {
		if (strcmp(files[i].path, path) == 0) {
			i_free(files[i].kind);
			i_free(files[i].text);
			files[i].kind = i_strdup(kind);
			files[i].text = i_strdup(text);
			return;
		}
	}
	files = i_realloc(files, size_mul(sizeof(*files), files_count + 1));
	files[files_count].kind = i_strdup(kind);
	files[files_count].path = i_strdup(path);
	files[files_count].text = i_strdup(text);
	files_count++;
}

const char *genfile_get(const char *path)
{
	for (unsigned int i = 0; i < files_count; i++) {
		if (strcmp(files[i].path, path) == 0)
			return files[i].text;
	}
	return NULL;
}

bool genfile_iter(const char *kind, unsigned int i, const char **path_r,
		  const char **text_r)
{
	for (unsigned int j = 0; j < files_count; j++) {
		if (strcmp(files[j].kind, kind) != 0)
			continue;
		if (i-- == 0) {
			*path_r = files[j].path;
			*text_r = files[j].text;
			return true;
		}
	}
	return false;
}

void genfile_reset(const char *kind)
{
	unsigned int out = 0;

	for (unsigned int i = 0; i < files_count; i++) {
		if (strcmp(files[i].kind, kind) == 0) {
			i_free(files[i].kind);
			i_free(files[i].path);
			i_free(files[i].text);
			continue;
		}
		files[out++] = files[i];
	}
	files_count = out;
	if (files_count == 0)
		i_free(files);
}
