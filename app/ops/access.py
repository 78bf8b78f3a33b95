"""Who may open the staff pages: one decorator shared by the order table and the experiment page."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.cache import add_never_cache_headers

from .auth import load_permissions


def staff_required(*perms: str):
    """@staff_required("orders.view_order"): anonymous visitors go to the login page; a logged-in
    user without every named permission (see ops.roles) gets 403. The answer is never cached:
    staff pages show customers' personal data."""
    if not perms or not all(isinstance(p, str) for p in perms):
        raise TypeError("staff_required needs the permission(s) it checks, e.g. @staff_required(roles.VIEW_ORDERS)")

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            load_permissions(request.user)  # one query where Django's backend makes two
            if not request.user.has_perms(perms):
                raise PermissionDenied("Your account's role does not include this page.")
            response = view(request, *args, **kwargs)
            add_never_cache_headers(response)
            return response

        return wrapped

    return decorator
