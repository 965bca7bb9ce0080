-- Top 10 orders by value
-- quantity * price; ties broken by orderid.
-- @trino
SELECT orderid, product_name, quantity, price, quantity * price AS value
FROM hive.sales.orders
ORDER BY value DESC, orderid
LIMIT 10;
-- @postgres
SELECT orderid, product_name, quantity, price, quantity * price AS value
FROM public.orders
ORDER BY value DESC, orderid COLLATE "C"
LIMIT 10;
