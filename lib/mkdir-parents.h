/* mkdir-parents.h - create a directory and its missing parents. */
#ifndef ROOST_MKDIR_PARENTS_H
#define ROOST_MKDIR_PARENTS_H

#include <sys/types.h>

/* 0 when path exists as a directory afterwards (also if it did
 * before), -1 with errno set otherwise. */
int mkdir_parents(const char *path, mode_t mode);

#endif
