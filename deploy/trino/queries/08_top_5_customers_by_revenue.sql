-- Top 5 customers by revenue
-- Revenue per customer; ties broken by customer_id.
-- @trino
SELECT customer_id, count(*) AS orders, sum(quantity * price) AS revenue
FROM hive.sales.orders
GROUP BY customer_id
ORDER BY revenue DESC, customer_id
LIMIT 5;
-- @postgres
SELECT customer_id, count(*) AS orders, sum(quantity * price) AS revenue
FROM public.orders
GROUP BY customer_id
ORDER BY revenue DESC, customer_id
LIMIT 5;
