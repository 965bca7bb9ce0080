-- Orders per hour
-- Orders per hour of created_at (UTC), with their revenue.
-- @trino
SELECT date_format(created_at, '%Y-%m-%d %H:00') AS hour, count(*) AS orders,
       sum(quantity * price) AS revenue
FROM hive.sales.orders
GROUP BY 1
ORDER BY 1;
-- @postgres
SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:00') AS hour, count(*) AS orders,
       sum(quantity * price) AS revenue
FROM public.orders
GROUP BY 1
ORDER BY 1;
