-- Totals
-- Orders, customers, products, units and revenue of the current state.
-- @trino
SELECT count(*) AS orders, count(DISTINCT customer_id) AS customers,
       count(DISTINCT product_name) AS products, sum(quantity) AS units,
       sum(quantity * price) AS revenue
FROM hive.sales.orders;
-- @postgres
SELECT count(*) AS orders, count(DISTINCT customer_id) AS customers,
       count(DISTINCT product_name) AS products, sum(quantity) AS units,
       sum(quantity * price) AS revenue
FROM public.orders;
