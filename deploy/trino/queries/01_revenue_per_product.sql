-- Revenue per product
-- The seed's Athena query, SUM(quantity * price), on the current state.
-- @trino
SELECT product_name, count(*) AS orders, sum(quantity * price) AS revenue
FROM hive.sales.orders
GROUP BY product_name
ORDER BY revenue DESC, product_name;
-- @postgres
SELECT product_name, count(*) AS orders, sum(quantity * price) AS revenue
FROM public.orders
GROUP BY product_name
ORDER BY revenue DESC, product_name COLLATE "C";
