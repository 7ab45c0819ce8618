/* unlink-directory.h - remove a directory tree. */
#ifndef ROOST_UNLINK_DIRECTORY_H
#define ROOST_UNLINK_DIRECTORY_H

/* Remove path and everything below it; symlinks are removed, never
 * followed; a path that is a file is unlinked. A missing path is
 * success. -1 (errno set) if anything
 * couldn't be removed; the rest is removed anyway. */
int unlink_directory(const char *path);

#endif
