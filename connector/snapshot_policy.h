/* When the connector reads the existing rows: the decision from snapshot.mode, whether the slot
 * exists, and what the offsets record says about the last snapshot of this slot. */
#ifndef SALESCDC_SNAPSHOT_POLICY_H
#define SALESCDC_SNAPSHOT_POLICY_H

#include "offsets.h"
#include "options.h"

enum snapshot_policy_action {
    SNAPSHOT_POLICY_STREAM,           /* the slot exists: stream from it */
    SNAPSHOT_POLICY_CREATE_SLOT,      /* no slot, no snapshot: create it and stream */
    SNAPSHOT_POLICY_SNAPSHOT,         /* create the slot with a snapshot, read it, stream */
    SNAPSHOT_POLICY_DROP_AND_SNAPSHOT /* drop the slot first (its snapshot is unusable) */
};

/* Decides for MODE. SLOT_EXISTS: the slot is there. RECORD: the offsets record of this slot on
 * this server, or NULL when there is none (or it is for another slot or server). Sets *WHY
 * (static text, may be NULL) to a reason worth logging as a warning. */
enum snapshot_policy_action snapshot_policy_decide(enum connector_snapshot_mode mode,
                                                   int slot_exists,
                                                   const struct offsets_record *record,
                                                   const char **why);

#endif
