"""The QuickBooks Customers page: list, add, edit, make inactive, merge and delete; on a
customer's page its sales, "Create invoice" and "Receive payment" on an open invoice."""

from datetime import date

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from sandbox.intuit import session
from sandbox.quickbooks import sales, sales_selectors, selectors, services
from sandbox.quickbooks.forms import CustomerForm
from sandbox.quickbooks.models import SalesTransaction

PAGE_SIZE = 50


def _realm_id(request: HttpRequest) -> str:
    company = session.signed_in_company(request)
    assert company is not None  # login_required saw to it
    return company.realm_id


@session.login_required
@require_http_methods(["GET"])
def customer_list(request: HttpRequest) -> HttpResponse:
    realm_id = _realm_id(request)
    search = request.GET.get("q", "").strip()
    show_inactive = request.GET.get("inactive") == "1"
    customers = selectors.live_customers(realm_id=realm_id)
    if not show_inactive:
        customers = customers.filter(active=True)
    if search:
        customers = customers.filter(
            Q(display_name__icontains=search)
            | Q(company_name__icontains=search)
            | Q(email__icontains=search)
        )
    page = Paginator(customers.order_by("display_name", "number"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "customers/list.html",
        {
            "page": page,
            "rows": [selectors.customer_json(customer) for customer in page],
            "search": search,
            "show_inactive": show_inactive,
        },
    )


@session.login_required
@require_http_methods(["GET", "POST"])
def customer_new(request: HttpRequest) -> HttpResponse:
    realm_id = _realm_id(request)
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.create_customer(realm_id=realm_id, fields=form.customer_fields())
        except services.CustomerError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Customer {customer.display_name} saved.")
            return redirect("quickbooks:customers")
    return render(request, "customers/form.html", {"form": form, "customer": None})


@session.login_required
@require_http_methods(["GET"])
def customer_detail(request: HttpRequest) -> HttpResponse:
    """QuickBooks Online's own address of a customer's page, /app/customerdetail?nameId=<Id>
    (of the company open in the browser): apps link their users there."""
    customer_id = request.GET.get("nameId", "")
    if selectors.read_customer(realm_id=_realm_id(request), customer_id=customer_id) is None:
        raise Http404("no such customer")
    return redirect("quickbooks:customer", customer_id=customer_id)


@session.login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, customer_id: str) -> HttpResponse:
    realm_id = _realm_id(request)
    customer = selectors.read_customer(realm_id=realm_id, customer_id=customer_id)
    if customer is None:
        raise Http404("no such customer")
    form = CustomerForm(request.POST or None, initial=CustomerForm.initial_from(customer.data))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_customer(
                realm_id=realm_id,
                customer_id=customer_id,
                changes=form.customer_fields(existing=customer.data),
            )
        except services.CustomerError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Customer saved.")
            return redirect("quickbooks:customers")
    history = SalesTransaction.objects.filter(
        realm_id=realm_id, customer_number=customer.number
    ).exclude(state=SalesTransaction.DELETED)
    return render(
        request,
        "customers/form.html",
        {
            "form": form,
            "customer": selectors.customer_json(customer),
            "transactions": [
                {**row, "Kind": kind, "Open": kind == "Invoice" and row.get("Balance", 0) > 0}
                for row, kind in zip(
                    sales_selectors.render_transactions(list(history.order_by("-number"))),
                    history.order_by("-number").values_list("entity", flat=True),
                    strict=True,
                )
            ],
            "today": timezone.localdate().isoformat(),
        },
    )


@session.login_required
@require_POST
def customer_action(request: HttpRequest, customer_id: str, action: str) -> HttpResponse:
    """Make inactive / active, delete, or merge into another customer (POST only)."""
    realm_id = _realm_id(request)
    try:
        if action == "deactivate":
            services.set_active(realm_id=realm_id, customer_id=customer_id, active=False)
            messages.success(request, f"Customer {customer_id} is now inactive.")
        elif action == "reactivate":
            services.set_active(realm_id=realm_id, customer_id=customer_id, active=True)
            messages.success(request, f"Customer {customer_id} is active again.")
        elif action == "delete":
            services.delete_customer(realm_id=realm_id, customer_id=customer_id)
            messages.success(request, f"Customer {customer_id} deleted.")
        elif action == "invoice":
            invoice = sales.create_transaction(
                realm_id=realm_id,
                entity=SalesTransaction.INVOICE,
                customer_id=customer_id,
                amount=request.POST.get("amount", "").strip(),
                txn_date=_posted_date(request),
            )
            messages.success(request, f"Invoice {invoice.doc_number} saved.")
            return redirect("quickbooks:customer", customer_id=customer_id)
        elif action == "pay":
            payment = sales.receive_payment(
                realm_id=realm_id, invoice_id=request.POST.get("invoice", "").strip()
            )
            messages.success(request, f"Payment of {payment.total_cents / 100:.2f} received.")
            return redirect("quickbooks:customer", customer_id=customer_id)
        elif action == "merge":
            into_id = request.POST.get("into", "").strip()
            survivor = services.merge_customer(
                realm_id=realm_id, customer_id=customer_id, into_id=into_id
            )
            messages.success(
                request, f"Customer {customer_id} merged into {survivor.display_name}."
            )
        else:
            raise Http404("no such action")
    except services.CustomerNotFound as error:
        messages.error(request, str(error))
    except services.CustomerError as error:
        messages.error(request, str(error))
        return redirect("quickbooks:customer", customer_id=customer_id)
    return redirect("quickbooks:customers")


def _posted_date(request: HttpRequest) -> date | None:
    raw = request.POST.get("date", "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        raise services.CustomerError("The date is YYYY-MM-DD.") from None
