/* The snapshot decision table. */
#include "snapshot_policy.h"

#include <stddef.h>

enum snapshot_policy_action snapshot_policy_decide(enum connector_snapshot_mode mode,
                                                   int slot_exists,
                                                   const struct offsets_record *record,
                                                   const char **why)
{
    enum offsets_snapshot last = record ? record->snapshot : OFFSETS_SNAPSHOT_NONE;
    *why = NULL;
    switch (mode) {
    case CONNECTOR_SNAPSHOT_NEVER:
        return slot_exists ? SNAPSHOT_POLICY_STREAM : SNAPSHOT_POLICY_CREATE_SLOT;
    case CONNECTOR_SNAPSHOT_ALWAYS:
        return slot_exists ? SNAPSHOT_POLICY_DROP_AND_SNAPSHOT : SNAPSHOT_POLICY_SNAPSHOT;
    case CONNECTOR_SNAPSHOT_INITIAL:
    case CONNECTOR_SNAPSHOT_INITIAL_ONLY: break;
    }
    if (slot_exists && last == OFFSETS_SNAPSHOT_RUNNING) {
        /* its exported snapshot died with the session that read it */
        *why = "the last snapshot was cut short: dropping the slot and taking it again";
        return SNAPSHOT_POLICY_DROP_AND_SNAPSHOT;
    }
    if (slot_exists)
        return SNAPSHOT_POLICY_STREAM;
    if (last == OFFSETS_SNAPSHOT_DONE)
        *why = "the slot is gone though its snapshot was complete (dropped while the connector "
               "was stopped?): changes made meanwhile were lost; taking a new snapshot";
    return SNAPSHOT_POLICY_SNAPSHOT;
}
