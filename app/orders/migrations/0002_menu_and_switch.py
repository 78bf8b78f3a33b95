"""Seed the menu and open the shop (the orders_open switch), once, on every new database."""

from decimal import Decimal

from django.db import migrations

MENU = [
    ("Vegetarian", "Tomato, mozzarella, peppers, mushrooms, red onion, olives", "9.50"),
    ("Pepperoni", "Tomato, mozzarella, spicy pepperoni", "10.50"),
    ("Roman", "Tomato, mozzarella, anchovies, capers, oregano", "10.00"),
    ("Sicilian", "Thick crust, tomato, caciocavallo, onion, breadcrumbs", "11.00"),
    ("Hawaiian", "Tomato, mozzarella, ham, pineapple", "10.00"),
]


def seed(apps, schema_editor):
    Pizza = apps.get_model("orders", "Pizza")
    for position, (name, description, price) in enumerate(MENU):
        Pizza.objects.get_or_create(name=name, defaults={"description": description, "price": Decimal(price), "position": position})
    Switch = apps.get_model("waffle", "Switch")
    Switch.objects.get_or_create(name="orders_open", defaults={"active": True, "note": "Closes ordering on every variant at once"})


def unseed(apps, schema_editor):
    apps.get_model("waffle", "Switch").objects.filter(name="orders_open").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("waffle", "0004_update_everyone_nullbooleanfield"),
    ]
    operations = [migrations.RunPython(seed, unseed)]
