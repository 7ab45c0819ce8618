/* rfc822-date.h - RFC 5322 (and RFC 822/850-ish) Date: header values. */
#ifndef ROOST_RFC822_DATE_H
#define ROOST_RFC822_DATE_H

#include "lib.h"
#include <time.h>

/* Parse "[Day,] DD Mon YYYY HH:MM[:SS] [zone]" leniently (comments,
 * two-digit years, obsolete zone names like GMT/EST, missing seconds).
 * Returns true with the UTC time and the zone offset in minutes. */
bool rfc822_date_parse(const char *value, time_t *time_r, int *tz_offset_r);

#endif
