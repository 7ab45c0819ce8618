/* message-date.h - RFC 5322 dates ("Mon, 6 Nov 2023 10:00:00 +0100")
 * as found in Date: and Received: fields, parsed leniently: the day of
 * the week, the comma and the seconds are optional, comments and extra
 * whitespace are skipped, two-digit years follow RFC 5322 (00-49 are
 * 20xx, 50-99 19xx), obsolete zone names (UT, GMT, EST, ... , military
 * letters) are understood, a missing zone is +0000. Used for SEARCH
 * SENTBEFORE/SENTON/SENTSINCE, SORT DATE and as a fallback INTERNALDATE. */
#ifndef ROOST_MESSAGE_DATE_H
#define ROOST_MESSAGE_DATE_H

#include "lib.h"
#include "str.h"

#include <time.h>

/* Parse size bytes. Returns true with the moment in UTC and the zone
   offset from UTC in minutes (+0100 gives 60), false if no date could be
   read. Anything after the zone is ignored. */
bool message_date_parse(const void *data, size_t size, time_t *time_r,
			int *timezone_offset_r);

/* Append t in zone tz_offset (minutes) as RFC 5322 writes it:
   "Mon, 6 Nov 2023 10:00:00 +0100". */
void message_date_create(time_t t, int tz_offset, string_t *dest);

#endif
