/* mkdir-parents.c - mkdir -p. */
#include "lib.h"
#include "mkdir-parents.h"

#include <errno.h>
#include <sys/stat.h>

int mkdir_parents(const char *path, mode_t mode)
{
	char *copy, *p;
	struct stat st;
	int ret = 0;

	if (mkdir(path, mode) == 0)
		return 0;
	if (errno == EEXIST)
		return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
	if (errno != ENOENT)
		return -1;
	copy = i_strdup(path);
	p = strrchr(copy, '/');
	if (p != NULL && p != copy) {
		*p = '\0';
		ret = mkdir_parents(copy, mode);
	}
	i_free(copy);
	if (ret < 0)
		return -1;
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}
