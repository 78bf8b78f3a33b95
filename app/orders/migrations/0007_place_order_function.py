# Expand-only: a function older releases never call. An order placed in one statement and one
# commit on PostgreSQL (orders.services.place_order): the chosen pizza checked (still on the menu, at
# the price the order was computed with), the order inserted, and a web order's experiment counters
# added (experiment_record_order) in a sub-block whose failure is reported back, never costing the
# order. PL/pgSQL keeps the plans per connection, so nothing is planned per order.

from django.db import migrations

from ops.migration_ops import RunSQLOnPostgres

PLACE_ORDER = """
CREATE OR REPLACE FUNCTION orders_place_order(
    p_reference text, p_access_token text, p_form_token uuid, p_pizza bigint, p_pizza_price numeric,
    p_size text, p_quantity integer, p_unit_price numeric, p_total numeric,
    p_customer_name text, p_phone text, p_address text, p_comments text,
    p_variant text, p_visitor_id text, p_channel text, p_created_at timestamptz,
    p_count_amount numeric, p_count_day date, p_count_shard integer,
    OUT order_id bigint, OUT counted boolean, OUT count_error text
) LANGUAGE plpgsql AS $$
-- order_id is NULL when the pizza is no longer on the menu at p_pizza_price (nothing was written).
-- A duplicate form token (or reference) raises unique_violation like the plain INSERT would.
BEGIN
    PERFORM 1 FROM orders_pizza WHERE id = p_pizza AND active AND price = p_pizza_price;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO orders_order (reference, access_token, form_token, pizza_id, size, quantity, unit_price, total,
                              customer_name, phone, address, comments, variant, visitor_id, channel, status,
                              created_at, updated_at, status_changed_by)
    VALUES (p_reference, p_access_token, p_form_token, p_pizza, p_size, p_quantity, p_unit_price, p_total,
            p_customer_name, p_phone, p_address, p_comments, p_variant, p_visitor_id, p_channel, 'received',
            p_created_at, p_created_at, '')
    RETURNING id INTO order_id;
    IF p_channel = 'web' THEN
        BEGIN
            counted := experiment_record_order(nullif(p_visitor_id, ''), p_variant, p_count_amount, p_created_at, p_count_day, p_count_shard);
        EXCEPTION WHEN OTHERS THEN
            count_error := SQLSTATE || ': ' || SQLERRM;
        END;
    END IF;
END
$$
"""

SIGNATURE = (
    "text, text, uuid, bigint, numeric, text, integer, numeric, numeric, text, text, text, text, text, text, text, "
    "timestamptz, numeric, date, integer"
)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0006_drop_unused_pattern_indexes"),
        ("experiment", "0003_record_order_function"),
    ]

    operations = [
        RunSQLOnPostgres(PLACE_ORDER, f"DROP FUNCTION IF EXISTS orders_place_order({SIGNATURE})"),
    ]
