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
-- Each result's month_start is the month's first day (a DATE), for the facts tables.
-- Money columns are DECIMAL(18,2) in the lake; their sums stay DECIMAL (exact to the cent).

-- name: account_month
SELECT
    w.billing_code,
    CAST(CONCAT(w.month, '-01') AS DATE) AS month_start,
    COUNT(*) AS waybills,
    SUM(w.pieces) AS pieces,
    SUM(w.weight_kg) AS weight_kg,
    SUM(w.freight + w.surcharges) AS revenue,
    COALESCE(SUM(w.cost), 0) AS cost,
    COALESCE(SUM(CASE WHEN w.cost IS NOT NULL THEN w.freight + w.surcharges - w.cost END), 0) AS margin,
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
    COUNT(DISTINCT CONCAT(w.origin, '>', w.destination)) AS lanes,
    COUNT(DISTINCT w.destination) AS destination_cities,
    COUNT(DISTINCT w.ship_date) AS active_days
FROM waybills w
WHERE w.month IN (SELECT t.month FROM touched_months t)
GROUP BY w.billing_code, w.month

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

-- name: account_month_lane
-- The lanes that matter: the 10 biggest by revenue of each code and month, among lanes
-- used at least twice that month (a one-off shipment is no lane).
SELECT billing_code, CAST(CONCAT(month, '-01') AS DATE) AS month_start, origin, destination,
       waybills, revenue
FROM (
    SELECT
        l.*,
        ROW_NUMBER() OVER (
            PARTITION BY l.billing_code, l.month
            ORDER BY l.revenue DESC, l.waybills DESC, l.origin, l.destination
        ) AS lane_rank
    FROM (
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
        HAVING COUNT(*) >= 2
    ) l
) ranked
WHERE lane_rank <= 10
