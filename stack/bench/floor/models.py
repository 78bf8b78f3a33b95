from django.db import models


class FloorOrder(models.Model):
    pizza = models.CharField(max_length=50)
    customer_name = models.CharField(max_length=100)

    class Meta:
        app_label = "floor"
