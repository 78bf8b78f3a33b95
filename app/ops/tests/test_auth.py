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
