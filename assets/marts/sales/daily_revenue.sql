-- Revenue of one day: orders that were not cancelled or returned.
SELECT
    order_date,
    count(*) AS orders,
    coalesce(sum(amount) FILTER (WHERE status NOT IN ('cancelled', 'returned')), 0) AS revenue,
    count(DISTINCT golden_id) AS customers
FROM marts.sales__customer_orders
WHERE order_date = $partition_date
GROUP BY order_date
