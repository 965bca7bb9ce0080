-- Deleted value per product
-- Deleted orders per product and the value they had: a delete's change row carries the
-- whole old row (REPLICA IDENTITY FULL); PostgreSQL's side reads the audit's copy of it.
-- @trino
SELECT product_name, count(*) AS deletes, sum(quantity * price) AS deleted_value
FROM hive.sales.orders_changes
WHERE __op = 'd'
GROUP BY product_name
ORDER BY product_name;
-- @postgres
SELECT image->>'product_name' AS product_name, count(*) AS deletes,
       sum((image->>'quantity')::int * (image->>'price')::numeric(10, 2)) AS deleted_value
FROM public.orders_audit
WHERE op = 'd'
GROUP BY 1
ORDER BY (image->>'product_name') COLLATE "C";
