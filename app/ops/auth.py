"""A staff user's permissions read in one statement instead of two, and the user in one fixed statement.

Every staff page checks permissions (ops.access.staff_required); Django's ModelBackend reads the
user's own permissions and their groups' permissions with two ORM queries, a fifth of the staff
table's CPU (docs/bench.md). `load_permissions` reads the same set (the union of both) with one
fixed statement and leaves it where ModelBackend keeps it for the request (`user._perm_cache`),
so `has_perms` answers from it. The backend itself is unchanged: sessions name Django's, which
every release, older or newer, still lists.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject


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


# --- The logged-in user in one fixed statement --------------------------------------------------

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, with the session's user read by `load_user` (request.user stays lazy)."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: cached_user(request))


def cached_user(request):
    if not hasattr(request, "_cached_user"):
        request._cached_user = load_user(request)
    return request._cached_user


def load_user(request):
    """The session's user, as django.contrib.auth.get_user finds it, read with one fixed statement.

    ModelBackend reads the user with the ORM's get(), ~170 us of CPU to build on every staff page
    (docs/bench.md). Only the usual case is taken here: a session made by ModelBackend, naming an
    active user whose password-derived hash matches with the current SECRET_KEY. Everything else
    (no session, another backend, an unknown or inactive user, a hash that needs the fallback keys
    or fails) is left to Django's get_user, which also rotates or flushes the session as it should.
    """
    session = request.session
    user_model = get_user_model()
    alias = router.db_for_read(user_model)
    if session.get(BACKEND_SESSION_KEY) != MODEL_BACKEND or MODEL_BACKEND not in settings.AUTHENTICATION_BACKENDS:
        return auth.get_user(request)
    if connections[alias].vendor != "postgresql" or not session.get(HASH_SESSION_KEY):
        return auth.get_user(request)
    try:
        user_id = user_model._meta.pk.to_python(session[SESSION_KEY])
    except (KeyError, ValidationError):
        return auth.get_user(request)
    user = read_user(user_model, alias, user_id)
    if user is None or not user.is_active or not constant_time_compare(session[HASH_SESSION_KEY], user.get_session_auth_hash()):
        return auth.get_user(request)
    return user


def read_user(user_model, alias: str, user_id):
    """The user row by primary key, as the ORM would build it (every concrete field), or None."""
    fields = [f.attname for f in user_model._meta.concrete_fields]
    columns = ", ".join(f'"{f.column}"' for f in user_model._meta.concrete_fields)
    sql = f'SELECT {columns} FROM "{user_model._meta.db_table}" WHERE "{user_model._meta.pk.column}" = %s'
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [user_id])
        row = cursor.fetchone()
    return None if row is None else user_model.from_db(alias, fields, row)
