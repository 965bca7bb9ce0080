-- Quantity distribution
-- Orders per quantity and their share in percent (rounded half up).
-- @trino
SELECT quantity, count(*) AS orders,
       CAST(round(CAST(count(*) AS decimal(38, 10)) * 100 / sum(count(*)) OVER (), 2)
            AS decimal(5, 2)) AS share_pct
FROM hive.sales.orders
GROUP BY quantity
ORDER BY quantity;
-- @postgres
SELECT quantity, count(*) AS orders,
       round(count(*) * 100.0 / sum(count(*)) OVER (), 2)::numeric(5, 2) AS share_pct
FROM public.orders
GROUP BY quantity
ORDER BY quantity;
