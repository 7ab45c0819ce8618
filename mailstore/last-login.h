/* last-login.h - the last_login plugin (last-login.c). */
#ifndef ROOST_LAST_LOGIN_H
#define ROOST_LAST_LOGIN_H

#include "mail-storage.h"

/* From mail_user_init: record the login time in last_login_dict. */
void last_login_user_init(struct mail_user *user,
			  const struct mail_user_info *info);

#endif
