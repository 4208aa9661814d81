-- Lifetime value of every golden customer, including those without orders.
SELECT
    g.golden_id,
    g.country,
    count(co.order_id) AS orders,
    coalesce(sum(co.amount) FILTER (WHERE co.status NOT IN ('cancelled', 'returned')), 0) AS lifetime_value,
    min(co.order_date) AS first_order,
    max(co.order_date) AS last_order
FROM golden.customers AS g
LEFT JOIN marts.sales__customer_orders AS co
    ON co.golden_id = g.golden_id
GROUP BY g.golden_id, g.country
