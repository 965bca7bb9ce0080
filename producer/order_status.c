/* The order life cycle as a transition table. */
#include "order_status.h"

static const char *const names[ORDER_STATUS_COUNT] = {"placed", "paid", "shipped", "delivered",
                                                      "cancelled"};

/* allowed[from][to] */
static const unsigned char allowed[ORDER_STATUS_COUNT][ORDER_STATUS_COUNT] = {
    [ORDER_PLACED] = {[ORDER_PAID] = 1, [ORDER_CANCELLED] = 1},
    [ORDER_PAID] = {[ORDER_SHIPPED] = 1, [ORDER_CANCELLED] = 1},
    [ORDER_SHIPPED] = {[ORDER_DELIVERED] = 1},
};

const char *order_status_name(enum order_status s)
{
    return (unsigned)s < ORDER_STATUS_COUNT ? names[s] : "unknown";
}

int order_status_is_terminal(enum order_status s)
{
    return s == ORDER_DELIVERED || s == ORDER_CANCELLED;
}

int order_status_can_transition(enum order_status from, enum order_status to)
{
    if ((unsigned)from >= ORDER_STATUS_COUNT || (unsigned)to >= ORDER_STATUS_COUNT)
        return 0;
    return allowed[from][to];
}

enum order_status order_status_next(struct prng *p, enum order_status from)
{
    uint64_t pct = prng_below(p, 100);
    switch (from) {
    case ORDER_PLACED: return pct < 85 ? ORDER_PAID : ORDER_CANCELLED;
    case ORDER_PAID: return pct < 92 ? ORDER_SHIPPED : ORDER_CANCELLED;
    case ORDER_SHIPPED: return ORDER_DELIVERED;
    default: return from;
    }
}
