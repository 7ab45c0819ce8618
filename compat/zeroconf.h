/* zeroconf.h - the set-up Roost runs with when no configuration file
 * exists (no -c, no /etc/dovecot/dovecot.conf, no /etc/dovecot.conf):
 * IMAP, IMAPS, POP3, POP3S for the system's users (PAM service
 * "dovecot", userdb passwd), mail location autodetected per user, a
 * self-signed certificate made on first start in the state directory,
 * submission when a local MTA answers on port 25 (roost(7), ZERO-CONFIG). */
#ifndef ROOST_ZEROCONF_H
#define ROOST_ZEROCONF_H

#include "lib.h"

/* /var/lib/roost, or $ROOST_STATE_DIR (tests). */
const char *zeroconf_state_dir(void);
/* The configuration text (Dovecot 2.3 syntax), also what doveconf -n
 * shows. Probes port 25 once per process, unless the master already did
 * and said so in $ROOST_ZEROCONF_MTA. */
const char *zeroconf_config_text(void);
/* Comment lines (each "# ...\n") explaining the choices, for doveconf's
 * header. */
const char *zeroconf_describe(void);
/* The master, before it starts anything: logs what was chosen, passes the
 * MTA decision to its children ($ROOST_ZEROCONF_MTA) and makes the state
 * directory and the certificate when missing. -1 with error_r. */
int zeroconf_master_prepare(const char **error_r);

#endif
