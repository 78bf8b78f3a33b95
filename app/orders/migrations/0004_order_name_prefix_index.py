"""Expand step: an index for the staff table's name search, built without blocking order writes."""

from django.db import migrations, models

from ops.migration_ops import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("orders", "0003_order_channel"),
    ]

    operations = [
        AddIndexOnline(
            model_name="order",
            index=models.Index(fields=["customer_name"], name="order_name_prefix", opclasses=["varchar_pattern_ops"]),
        ),
    ]
