"""The Experiment page's parameters at the edges of the calendar: a 200 with the defaults, never a 500."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "params",
    [
        {"date_to": "9999-12-31"},
        {"date_from": "9999-12-31", "date_to": "9999-12-31"},
        {"date_to": "0001-01-01"},
        {"date_from": "0001-01-01", "date_to": "0001-01-02"},
        {"date_to": "9999-12-31", "format": "csv"},
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_refused_not_a_500(staff_client, params):
    response = staff_client.get("/staff/experiment/", params)
    assert response.status_code == 200
    if params.get("format") != "csv":
        assert "Choose dates between" in response.content.decode()
