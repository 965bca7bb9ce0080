-- Share of deletes
-- Deletes among all changes, in percent (rounded half up).
-- @trino
SELECT count(*) AS changes, count_if(__op = 'd') AS deletes,
       CAST(round(CAST(count_if(__op = 'd') AS decimal(38, 10)) * 100 / count(*), 2)
            AS decimal(5, 2)) AS delete_pct
FROM hive.sales.orders_changes;
-- @postgres
SELECT count(*) AS changes, count(*) FILTER (WHERE op = 'd') AS deletes,
       round(count(*) FILTER (WHERE op = 'd') * 100.0 / count(*), 2)::numeric(5, 2) AS delete_pct
FROM public.orders_audit;
