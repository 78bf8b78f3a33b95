from django import forms
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from .models import FloorOrder


class FloorOrderForm(forms.ModelForm):
    class Meta:
        model = FloorOrder
        fields = ["pizza", "customer_name"]


def order(request):
    form = FloorOrderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        return redirect("confirmed", pk=saved.pk)
    return render(request, "floor/order.html", {"form": form}, status=422 if form.is_bound else 200)


def confirmed(request, pk: int):
    saved = get_object_or_404(FloorOrder, pk=pk)
    return HttpResponse(f"Order {saved.pk}: {saved.pizza} for {saved.customer_name}", content_type="text/plain")


def ready(request):
    return HttpResponse("ok", content_type="text/plain")
