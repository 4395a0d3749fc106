-- The monthly facts per billing account code, built from the waybill lake.
--
-- The one place this SQL lives. It is plain SQL that DuckDB and Spark SQL both run:
-- the runner provides two relations,
--   waybills(waybill_no, billing_code, ship_time, ship_date, origin, destination, product,
--            pieces, weight_kg, freight, surcharges, cost, cod_amount, declared_value,
--            goods_category, consignee_type, status, delivered_time, promised_time,
--            is_return, month)       -- the lake; month is 'YYYY-MM' (Beijing calendar)
--   touched_months(month)            -- the months to (re)build
-- and reads each statement's result. Statements are separated by '-- name: <name>' lines.
-- A statement whose name is not a facts table (lane_month) is kept by the runner as a
-- temporary table of that name for the statements after it (Spark: CACHE TABLE ... AS).
-- Each result's month_start is the month's first day (a DATE), for the facts tables.
-- Money columns are DECIMAL(18,2) in the lake; their sums stay DECIMAL (exact to the cent).

-- name: lane_month
-- One pass over the waybills, per code, month and lane (origin -> destination). The facts
-- per code and month add the lanes up, so that the distinct lanes, destination cities and
-- active days cost no COUNT(DISTINCT) over the waybills: active days are a bit mask of the
-- month's days (bit d-1 for day d), OR-ed and counted (BIT_OR and BIT_COUNT: Spark has both).
SELECT
    w.billing_code,
    w.month,
    w.origin,
    w.destination,
    COUNT(*) AS waybills,
    SUM(w.pieces) AS pieces,
    SUM(w.weight_kg) AS weight_kg,
    SUM(w.freight + w.surcharges) AS revenue,
    SUM(w.cost) AS cost,
    SUM(CASE WHEN w.cost IS NOT NULL THEN w.freight + w.surcharges - w.cost END) AS margin,
    COUNT(w.cost) AS costed_waybills,
    SUM(w.cod_amount) AS cod_amount,
    SUM(CASE WHEN w.is_return THEN 1 ELSE 0 END) AS returns,
    SUM(CASE WHEN w.status = 'returned' THEN 1 ELSE 0 END) AS returned,
    SUM(CASE WHEN w.status = 'lost' THEN 1 ELSE 0 END) AS lost,
    SUM(CASE WHEN w.status = 'damaged' THEN 1 ELSE 0 END) AS damaged,
    SUM(CASE WHEN w.status = 'delivered' AND w.promised_time IS NOT NULL
             AND w.delivered_time IS NOT NULL THEN 1 ELSE 0 END) AS promised,
    SUM(CASE WHEN w.status = 'delivered' AND w.promised_time IS NOT NULL
             AND w.delivered_time IS NOT NULL AND w.delivered_time <= w.promised_time
             THEN 1 ELSE 0 END) AS on_time,
    SUM(CASE WHEN w.consignee_type = 'consumer' THEN 1 ELSE 0 END) AS consumer_waybills,
    BIT_OR(CAST(1 AS BIGINT) << (DAY(w.ship_date) - 1)) AS day_bits
FROM waybills w
WHERE w.month IN (SELECT t.month FROM touched_months t)
GROUP BY w.billing_code, w.month, w.origin, w.destination

-- name: account_month
-- Sorted by code and month: the database inserts in its unique index's order, twice as fast.
SELECT
    l.billing_code,
    CAST(CONCAT(l.month, '-01') AS DATE) AS month_start,
    SUM(l.waybills) AS waybills,
    SUM(l.pieces) AS pieces,
    SUM(l.weight_kg) AS weight_kg,
    SUM(l.revenue) AS revenue,
    COALESCE(SUM(l.cost), 0) AS cost,
    COALESCE(SUM(l.margin), 0) AS margin,
    SUM(l.costed_waybills) AS costed_waybills,
    COALESCE(SUM(l.cod_amount), 0) AS cod_amount,
    SUM(l.returns) AS returns,
    SUM(l.returned) AS returned,
    SUM(l.lost) AS lost,
    SUM(l.damaged) AS damaged,
    SUM(l.promised) AS promised,
    SUM(l.on_time) AS on_time,
    SUM(l.consumer_waybills) AS consumer_waybills,
    COUNT(*) AS lanes,
    COUNT(DISTINCT l.destination) AS destination_cities,
    BIT_COUNT(BIT_OR(l.day_bits)) AS active_days
FROM lane_month l
GROUP BY l.billing_code, l.month
ORDER BY l.billing_code, month_start

-- name: account_month_product
SELECT
    w.billing_code,
    CAST(CONCAT(w.month, '-01') AS DATE) AS month_start,
    w.product,
    COUNT(*) AS waybills,
    SUM(w.freight + w.surcharges) AS revenue
FROM waybills w
WHERE w.month IN (SELECT t.month FROM touched_months t)
GROUP BY w.billing_code, w.month, w.product
ORDER BY w.billing_code, month_start, w.product

-- name: account_month_lane
-- The lanes that matter: the 10 biggest by revenue of each code and month, among lanes
-- used at least twice that month (a one-off shipment is no lane).
SELECT billing_code, CAST(CONCAT(month, '-01') AS DATE) AS month_start, origin, destination,
       waybills, revenue
FROM (
    SELECT
        l.billing_code,
        l.month,
        l.origin,
        l.destination,
        l.waybills,
        l.revenue,
        ROW_NUMBER() OVER (
            PARTITION BY l.billing_code, l.month
            ORDER BY l.revenue DESC, l.waybills DESC, l.origin, l.destination
        ) AS lane_rank
    FROM lane_month l
    WHERE l.waybills >= 2
) ranked
WHERE lane_rank <= 10
ORDER BY billing_code, month_start, origin, destination
