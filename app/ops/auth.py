"""A staff user's permissions read in one statement instead of two.

Every staff page checks permissions (ops.access.staff_required); Django's ModelBackend reads the
user's own permissions and their groups' permissions with two ORM queries, a fifth of the staff
table's CPU (docs/bench.md). `load_permissions` reads the same set (the union of both) with one
fixed statement and leaves it where ModelBackend keeps it for the request (`user._perm_cache`),
so `has_perms` answers from it. The backend itself is unchanged: sessions name Django's, which
every release, older or newer, still lists.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router


def permissions_sql() -> str:
    user = get_user_model()
    user_perms = user.user_permissions.through._meta
    user_groups = user.groups.through._meta
    group_perms = Group.permissions.through._meta
    return (
        f'SELECT ct."app_label", p."codename" FROM "{Permission._meta.db_table}" p '
        f'JOIN "{ContentType._meta.db_table}" ct ON ct."id" = p."content_type_id" '
        f'WHERE p."id" IN (SELECT "permission_id" FROM "{user_perms.db_table}" WHERE "user_id" = %s '
        f'UNION SELECT gp."permission_id" FROM "{group_perms.db_table}" gp '
        f'JOIN "{user_groups.db_table}" ug ON ug."group_id" = gp."group_id" WHERE ug."user_id" = %s)'
    )


def load_permissions(user) -> None:
    """Fill ModelBackend's per-request cache of an active, non-superuser's permissions in one query."""
    if not user.is_active or user.is_anonymous or user.is_superuser or hasattr(user, "_perm_cache"):
        return  # Django's own path: anonymous (none), superusers (all), or already read
    with connections[router.db_for_read(Permission)].cursor() as cursor:
        cursor.execute(permissions_sql(), [user.pk, user.pk])
        user._perm_cache = {f"{app_label}.{codename}" for app_label, codename in cursor.fetchall()}
