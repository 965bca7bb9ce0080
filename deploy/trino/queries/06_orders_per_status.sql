-- Orders per status
-- Seed mode places orders, lifecycle mode moves them on; with revenue.
-- @trino
SELECT status, count(*) AS orders, sum(quantity * price) AS revenue
FROM hive.sales.orders
GROUP BY status
ORDER BY status;
-- @postgres
SELECT status, count(*) AS orders, sum(quantity * price) AS revenue
FROM public.orders
GROUP BY status
ORDER BY status COLLATE "C";
