"""ops.auth: a staff user's permissions in one statement, the same set Django's backend reads in two."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission

from ops.auth import load_permissions

pytestmark = pytest.mark.django_db


def fresh(user):
    return type(user).objects.get(pk=user.pk)  # no permission cache from an earlier check


def test_user_and_group_permissions_are_read_in_one_query(django_user_model, django_assert_num_queries):
    user = django_user_model.objects.create_user("cook", password="pw-cook-123", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_order"))
    group = Group.objects.create(name="kitchen-test")
    group.permissions.add(Permission.objects.get(codename="change_order_status"), Permission.objects.get(codename="view_order"))
    user.groups.add(group)
    loaded = fresh(user)
    with django_assert_num_queries(1):
        load_permissions(loaded)
        assert loaded.has_perms(["orders.view_order", "orders.change_order_status"])
    assert (
        loaded.get_all_permissions()
        == ModelBackend().get_all_permissions(fresh(user))
        == {
            "orders.view_order",
            "orders.change_order_status",
        }
    )


def test_a_user_without_permissions_has_none(django_user_model):
    user = fresh(django_user_model.objects.create_user("nobody", password="pw-nobody-123"))
    load_permissions(user)
    assert user.get_all_permissions() == set() and not user.has_perm("orders.view_order")


def test_a_user_without_the_role_is_refused_the_staff_table(django_user_model, client):
    user = django_user_model.objects.create_user("visitor", password="pw-visitor-123", is_staff=True)
    client.force_login(user)
    assert client.get("/staff/orders/").status_code == 403


# --- the session's user (ops.auth.load_user) ------------------------------------------------------


def logged_in_request(client, user):
    """A request carrying the session a real login gave `user`, as AuthenticationMiddleware sees it."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    client.force_login(user)
    request = RequestFactory().get("/staff/orders/")
    request.session = SessionStore(client.cookies["sessionid"].value)
    return request


def test_the_session_user_is_read_in_one_statement_like_django(client, staff_user, django_assert_num_queries):
    from django.contrib import auth
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    from ops.auth import load_user

    request = logged_in_request(client, staff_user)
    assert request.session.get("_auth_user_id")  # the session itself read first: one statement is the user
    with django_assert_num_queries(1):
        user = load_user(request)
    again = RequestFactory().get("/staff/orders/")
    again.session = SessionStore(request.session.session_key)
    expected = auth.get_user(again)
    assert user == expected and user.is_authenticated
    assert {f.attname: getattr(user, f.attname) for f in user._meta.concrete_fields} == {
        f.attname: getattr(expected, f.attname) for f in expected._meta.concrete_fields
    }


def test_a_changed_password_or_an_inactive_user_ends_the_session(client, staff_user):
    """What Django's get_user decides, and the session it flushes, in the cases load_user leaves to it."""
    from ops.auth import load_user

    request = logged_in_request(client, staff_user)
    staff_user.set_password("a-new-password-456")
    staff_user.save()
    assert load_user(request).is_anonymous and request.session.is_empty()
    staff_user.is_active = False
    staff_user.save()
    assert load_user(logged_in_request(client, staff_user)).is_anonymous


def test_staff_pages_still_know_their_user(staff_client):
    page = staff_client.get("/staff/orders/")
    assert page.status_code == 200 and "Log out" in page.content.decode()
