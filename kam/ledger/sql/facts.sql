-- The monthly facts per billing account code, built from the waybill lake.
--
-- The one place this SQL lives. It is plain SQL that DuckDB and Spark SQL both run:
-- the runner provides two relations,
--   waybills(waybill_no, billing_code, ship_time, ship_date, origin, destination, product,
--            pieces, weight_kg, freight, surcharges, cost, cod_amount, declared_value,
--            goods_category, consignee_type, status, delivered_time, promised_time,
--            is_return, month)       -- the lake, one row per waybill: its latest version
--                                    -- (docs/ledger.md, Versions); month is 'YYYY-MM'
--                                    -- (Beijing calendar)
--   touched_months(month)            -- the months to (re)build
-- and reads each statement's result. Statements are separated by '-- name: <name>' lines.
-- A statement whose name is not a facts table (code_month, lane_month) is kept by the
-- runner as a temporary table of that name for the statements after it (Spark: CACHE
-- TABLE ... AS). Each result's month_start is the month's first day (a DATE).
-- Money columns are DECIMAL(18,2) in the lake; their sums stay DECIMAL (exact to the cent).
--
-- Two passes over the waybills: one per code and month (every sum, the product mix, and
-- the active days as a bit mask of the month's days, bit d-1 for day d, OR-ed and counted:
-- BIT_OR and BIT_COUNT, which Spark has too), and one per code, month and lane with two
-- sums, from which come the distinct lanes, the destination cities and the lanes that
-- matter. No COUNT(DISTINCT) over the waybills.

-- name: code_month
SELECT
    w.billing_code,
    w.month,
    COUNT(*) AS waybills,
    SUM(w.pieces) AS pieces,
    SUM(w.weight_kg) AS weight_kg,
    SUM(w.freight + w.surcharges) AS revenue,
    COALESCE(SUM(w.cost), 0) AS cost,
    COALESCE(SUM(CASE WHEN w.cost IS NOT NULL THEN w.freight + w.surcharges - w.cost END), 0)
        AS margin,
    COUNT(w.cost) AS costed_waybills,
    COALESCE(SUM(w.cod_amount), 0) AS cod_amount,
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
    BIT_COUNT(BIT_OR(CAST(1 AS BIGINT) << (DAY(w.ship_date) - 1))) AS active_days,
    SUM(CASE WHEN w.product = 'express' THEN 1 ELSE 0 END) AS express_waybills,
    COALESCE(SUM(CASE WHEN w.product = 'express' THEN w.freight + w.surcharges END), 0)
        AS express_revenue,
    SUM(CASE WHEN w.product = 'standard' THEN 1 ELSE 0 END) AS standard_waybills,
    COALESCE(SUM(CASE WHEN w.product = 'standard' THEN w.freight + w.surcharges END), 0)
        AS standard_revenue,
    SUM(CASE WHEN w.product = 'ground' THEN 1 ELSE 0 END) AS ground_waybills,
    COALESCE(SUM(CASE WHEN w.product = 'ground' THEN w.freight + w.surcharges END), 0)
        AS ground_revenue,
    SUM(CASE WHEN w.product = 'cold' THEN 1 ELSE 0 END) AS cold_waybills,
    COALESCE(SUM(CASE WHEN w.product = 'cold' THEN w.freight + w.surcharges END), 0)
        AS cold_revenue,
    SUM(CASE WHEN w.product = 'international' THEN 1 ELSE 0 END) AS international_waybills,
    COALESCE(SUM(CASE WHEN w.product = 'international' THEN w.freight + w.surcharges END), 0)
        AS international_revenue
FROM waybills w
WHERE w.month IN (SELECT t.month FROM touched_months t)
GROUP BY w.billing_code, w.month

-- name: lane_month
SELECT
    w.billing_code,
    w.month,
    w.origin,
    w.destination,
    COUNT(*) AS waybills,
    SUM(w.freight + w.surcharges) AS revenue
FROM waybills w
WHERE w.month IN (SELECT t.month FROM touched_months t)
GROUP BY w.billing_code, w.month, w.origin, w.destination

-- name: account_month
-- Sorted by code and month: the database inserts in its unique index's order, twice as fast.
SELECT
    c.billing_code,
    CAST(CONCAT(c.month, '-01') AS DATE) AS month_start,
    c.waybills, c.pieces, c.weight_kg, c.revenue, c.cost, c.margin, c.costed_waybills,
    c.cod_amount, c.returns, c.returned, c.lost, c.damaged, c.promised, c.on_time,
    c.consumer_waybills, l.lanes, l.destination_cities, c.active_days,
    c.express_waybills, c.express_revenue, c.standard_waybills, c.standard_revenue,
    c.ground_waybills, c.ground_revenue, c.cold_waybills, c.cold_revenue,
    c.international_waybills, c.international_revenue
FROM code_month c
JOIN (
    SELECT billing_code, month, COUNT(*) AS lanes, COUNT(DISTINCT destination) AS destination_cities
    FROM lane_month
    GROUP BY billing_code, month
) l ON l.billing_code = c.billing_code AND l.month = c.month
ORDER BY c.billing_code, month_start

-- name: account_month_lane
-- The lanes that matter: the 10 biggest by revenue of each code and month, among lanes
-- used at least twice that month (a one-off shipment is no lane).
SELECT billing_code, month, CAST(CONCAT(month, '-01') AS DATE) AS month_start, origin,
       destination, waybills, revenue
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
