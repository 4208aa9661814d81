-- One row per loaded order, with its golden customer and product category.
-- Products are deduplicated (a product id re-sent on a later day counts once: its latest record).
SELECT
    o.order_id,
    o._partition_date AS order_date,
    x.golden_id,
    o.account_id,
    o.product_id,
    p.category,
    o.quantity,
    o.amount,
    o.status,
    g.country
FROM sources.shop__orders AS o
LEFT JOIN golden.customers__xref AS x
    ON x.source_system = 'shop' AND x.source_key = o.account_id
LEFT JOIN golden.customers AS g
    ON g.golden_id = x.golden_id
LEFT JOIN (
    SELECT product_id, arg_max(category, _partition_date) AS category
    FROM sources.shop__products
    GROUP BY product_id
) AS p
    ON p.product_id = o.product_id
WHERE o._partition_date = $partition_date
