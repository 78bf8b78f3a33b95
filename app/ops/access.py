"""Who may open the staff pages: one decorator shared by the order table and the experiment page."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def staff_required(view):
    """Anonymous visitors go to the login page; logged-in non-staff get 403."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("Staff only")
        return view(request, *args, **kwargs)

    return wrapped
