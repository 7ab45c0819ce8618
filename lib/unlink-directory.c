/* unlink-directory.c - rm -rf without following symlinks. */
#include "lib.h"
#include "unlink-directory.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

int unlink_directory(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int ret = 0;

	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		/* not a directory: remove the file itself */
		return errno == ENOTDIR ? unlink(path) : -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		char *p;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p = i_strdup_printf("%s/%s", path, de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (unlink_directory(p) < 0)
				ret = -1;
		} else if (unlink(p) < 0 && errno != ENOENT) {
			ret = -1;
		}
		i_free(p);
	}
	closedir(d);
	if (rmdir(path) < 0 && errno != ENOENT)
		ret = -1;
	return ret;
}
