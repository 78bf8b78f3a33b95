# Who moved an order (expand: a column with a database default), the status permission, bidi validators (no SQL).

from django.db import migrations, models

import orders.validators


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0004_order_name_prefix_index"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="order",
            options={"ordering": ["-created_at", "-id"], "permissions": [("change_order_status", "Can move an order to its next status")]},
        ),
        migrations.AddField(
            model_name="order",
            name="status_changed_by",
            field=models.CharField(blank=True, db_default="", default="", max_length=150),
        ),
        migrations.AlterField(
            model_name="order",
            name="address",
            field=models.CharField(max_length=300, validators=[orders.validators.no_bidi_controls]),
        ),
        migrations.AlterField(
            model_name="order",
            name="comments",
            field=models.TextField(blank=True, default="", max_length=1000, validators=[orders.validators.no_bidi_controls]),
        ),
        migrations.AlterField(
            model_name="order",
            name="customer_name",
            field=models.CharField(max_length=100, validators=[orders.validators.no_bidi_controls]),
        ),
    ]
