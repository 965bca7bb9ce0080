/* The order life cycle: placed → paid → shipped → delivered, with cancelled reachable from placed
 * and paid (nothing is cancelled once it has left the warehouse). */
#ifndef SALESCDC_PRODUCER_ORDER_STATUS_H
#define SALESCDC_PRODUCER_ORDER_STATUS_H

#include "prng.h"

enum order_status {
    ORDER_PLACED,
    ORDER_PAID,
    ORDER_SHIPPED,
    ORDER_DELIVERED,
    ORDER_CANCELLED,
};

#define ORDER_STATUS_COUNT 5

/* The status as stored in the status column ("placed", ...); borrowed, static. */
const char *order_status_name(enum order_status s);
/* True for delivered and cancelled: no transition leaves them. */
int order_status_is_terminal(enum order_status s);
/* True if FROM → TO is a step of the life cycle. */
int order_status_can_transition(enum order_status from, enum order_status to);
/* Draws the next status of a non-terminal FROM: placed → paid (85%) or cancelled (15%),
 * paid → shipped (92%) or cancelled (8%), shipped → delivered. */
enum order_status order_status_next(struct prng *p, enum order_status from);

#endif
