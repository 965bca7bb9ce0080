-- Changes by operation
-- Every change by operation (c create, u update, d delete): the change table against
-- the audit table that ./demo installs (a trigger recording each row change of public.orders).
-- @trino
SELECT __op AS op, count(*) AS changes
FROM hive.sales.orders_changes
GROUP BY __op
ORDER BY op;
-- @postgres
SELECT op, count(*) AS changes
FROM public.orders_audit
GROUP BY op
ORDER BY op COLLATE "C";
