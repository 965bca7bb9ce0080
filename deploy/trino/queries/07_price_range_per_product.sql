-- Price range per product
-- Minimum, maximum and average unit price per product.
-- @trino
SELECT product_name, min(price) AS min_price, max(price) AS max_price,
       CAST(avg(price) AS decimal(10, 2)) AS avg_price
FROM hive.sales.orders
GROUP BY product_name
ORDER BY product_name;
-- @postgres
SELECT product_name, min(price) AS min_price, max(price) AS max_price,
       round(avg(price), 2)::numeric(10, 2) AS avg_price
FROM public.orders
GROUP BY product_name
ORDER BY product_name COLLATE "C";
