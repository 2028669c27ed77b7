"""The operators' admin: tenants, people, connections and list history, never a token."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tenants.models import (
    ConstantContactConnection,
    ListSelection,
    Membership,
    QuickBooksConnection,
    Tenant,
    User,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("operator", password="operator-pass"))
    return client


@pytest.fixture
def tenant() -> Tenant:
    tenant = Tenant.objects.create(realm_id="9130357777", company_name="Sandbox Pottery")
    Tenant.objects.create(realm_id="9130358888", company_name="Other Bakery")
    user = User.objects.create(username="intuit-sub-7", intuit_sub="sub-7")
    Membership.objects.create(user=user, tenant=tenant)
    for model in (QuickBooksConnection, ConstantContactConnection):
        connection = model(tenant=tenant)
        connection.access_token = f"{model.__name__}-access-secret"
        connection.refresh_token = f"{model.__name__}-refresh-secret"
        connection.access_expires_at = timezone.now() + timedelta(hours=1)
        connection.save()
    ListSelection.objects.create(tenant=tenant, list_id="list-1", list_name="Customers")
    return tenant


@pytest.mark.parametrize("term", ["9130357777", "Pottery"])
def test_tenants_are_searchable_by_realm_id_and_company_name(operator, tenant, term):
    page = operator.get("/admin/tenants/tenant/", {"q": term}).content.decode()
    assert "Sandbox Pottery" in page and "Other Bakery" not in page


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/admin/tenants/quickbooksconnection/", "Sandbox Pottery"),
        ("/admin/tenants/constantcontactconnection/", "Sandbox Pottery"),
        ("/admin/tenants/listselection/", "Sandbox Pottery"),
        # People are listed by their username, found through their company's name.
        ("/admin/tenants/user/", "intuit-sub-7"),
    ],
)
def test_connections_list_history_and_people_are_searchable(operator, tenant, path, shown):
    page = operator.get(path, {"q": "Pottery"}).content.decode()
    assert shown in page
    assert "Other Bakery" not in page
    assert "secret" not in page


def test_connection_pages_show_state_and_expiry_never_tokens(operator, tenant):
    for model in (QuickBooksConnection, ConstantContactConnection):
        connection = model.objects.get(tenant=tenant)
        path = f"/admin/tenants/{model._meta.model_name}/{connection.pk}/change/"
        page = operator.get(path).content.decode()
        assert "Access expires at" in page and "Connected" in page
        assert "secret" not in page
        assert connection.access_token_encrypted not in page
        assert connection.refresh_token_encrypted not in page
    page = operator.get(f"/admin/tenants/tenant/{tenant.pk}/change/").content.decode()
    assert "Customers" in page and "secret" not in page


def test_tenants_cannot_be_deleted_from_the_admin(operator, tenant):
    # Deleting a tenant is erase_company's job: it revokes the grants and removes its people.
    answer = operator.get(f"/admin/tenants/tenant/{tenant.pk}/delete/")
    assert answer.status_code == 403
    changelist = operator.get("/admin/tenants/tenant/").content.decode()
    assert "delete_selected" not in changelist
    assert Tenant.objects.filter(pk=tenant.pk).exists()
