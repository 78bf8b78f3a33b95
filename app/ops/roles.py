"""Staff roles: which group may do what. The one list; ensure_staff, the views and the tests import it.

kitchen    sees the order table and moves orders along their statuses
marketing  sees the Experiment page (and its CSV)
admin      a superuser: the Django admin (menu, the orders_open switch, accounts)
"""

from __future__ import annotations

# The permissions the staff views check (app_label.codename).
VIEW_ORDERS = "orders.view_order"
CHANGE_STATUS = "orders.change_order_status"
VIEW_EXPERIMENT = "experiment.view_exposure"

ROLES: dict[str, tuple[str, ...]] = {
    "kitchen": (VIEW_ORDERS, CHANGE_STATUS),
    "marketing": (VIEW_EXPERIMENT,),
}
ADMIN = "admin"
ROLE_NAMES = (*ROLES, ADMIN)


def sync_roles(**_signal_kwargs) -> None:
    """Create each role's group holding exactly its permissions (idempotent; runs after every migrate).

    post_migrate fires once per app, before later apps' permissions exist; each run adds what exists
    so far, and the last one leaves every group complete.
    """
    from django.contrib.auth.models import Group, Permission

    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted += Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        group.permissions.set(wanted)


def assign_role(user, role: str) -> None:
    """Give `user` exactly `role`: one group, or superuser for admin. Saves the user."""
    from django.contrib.auth.models import Group

    if role not in ROLE_NAMES:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLE_NAMES)}")
    sync_roles()
    user.is_superuser = user.is_staff = role == ADMIN  # is_staff opens the admin site, nothing else
    user.save()
    user.groups.set([] if role == ADMIN else [Group.objects.get(name=role)])


def add_roles(user, *roles: str) -> None:
    """Add groups to `user` (several roles at once: test fixtures, a one-person shop)."""
    from django.contrib.auth.models import Group

    sync_roles()
    user.groups.add(*Group.objects.filter(name__in=roles))
