-- Most changed orders
-- The 5 orders changed most often (creates, upserts, deletes); ties broken by orderid.
-- @trino
SELECT orderid, count(*) AS changes, count_if(__op = 'u') AS updates,
       count_if(__op = 'd') AS deletes
FROM hive.sales.orders_changes
GROUP BY orderid
ORDER BY changes DESC, orderid
LIMIT 5;
-- @postgres
SELECT orderid, count(*) AS changes, count(*) FILTER (WHERE op = 'u') AS updates,
       count(*) FILTER (WHERE op = 'd') AS deletes
FROM public.orders_audit
GROUP BY orderid
ORDER BY changes DESC, orderid COLLATE "C"
LIMIT 5;
