from django.apps import AppConfig


class FloorConfig(AppConfig):
    name = "stack.bench.floor"
    label = "floor"
