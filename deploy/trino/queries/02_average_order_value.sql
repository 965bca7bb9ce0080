-- Average order value
-- Orders, their average value (quantity * price) and the smallest and largest.
-- @trino
SELECT count(*) AS orders,
       CAST(avg(quantity * price) AS decimal(12, 2)) AS avg_value,
       min(quantity * price) AS min_value,
       max(quantity * price) AS max_value
FROM hive.sales.orders;
-- @postgres
SELECT count(*) AS orders,
       round(avg(quantity * price), 2)::numeric(12, 2) AS avg_value,
       min(quantity * price) AS min_value,
       max(quantity * price) AS max_value
FROM public.orders;
