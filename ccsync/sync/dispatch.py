"""A company's changes handed to the pacer (ccsync/sync/pacing.py) at the end of their
change window, and started as one run of changes when the pacer gives the company its
turn: at once while the day is under pace, later (gathering more changes meanwhile) as
demand grows.
"""

from ccsync.sync import pacing
from ccsync.sync.change_window import close_window
from ccsync.sync.event_store import has_pending_events
from ccsync.sync.models import Run
from ccsync.sync.runs import create_run
from tenants import selectors as tenant_selectors
from tenants.models import Tenant


def start_changes(*, tenant_id: int) -> Run | None:
    """The end of a change window: one run of changes for everything waiting, now if the
    pacer says so, else when `dispatch` finds the company's turn has come."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return None
    pacer = pacing.get_pacer()
    if not _ready(tenant):
        close_window(tenant_id=tenant.pk)
        pacer.forget(str(tenant_id))
        return None
    if not pacer.offer(str(tenant_id)):
        return None  # waiting its turn, gathering more changes
    return _run_changes(tenant)


def dispatch() -> int:
    """Beat, every SYNC_DISPATCH_SECONDS: the waiting companies whose turn has come start
    their run of changes. Returns how many started."""
    started = 0
    for tenant_id in pacing.get_pacer().release():
        tenant = Tenant.objects.filter(pk=int(tenant_id)).first()
        if tenant is not None and _ready(tenant):
            started += _run_changes(tenant) is not None
        elif tenant is not None:
            close_window(tenant_id=tenant.pk)
    return started


def _ready(tenant: Tenant) -> bool:
    """Connected, not paused, set up (else the first sync takes the changes along), and
    with changes waiting."""
    return (
        not tenant.paused
        and tenant.is_connected
        and has_pending_events(tenant=tenant)
        and tenant_selectors.current_list(tenant=tenant) is not None
    )


def _run_changes(tenant: Tenant) -> Run | None:
    close_window(tenant_id=tenant.pk)
    return create_run(tenant=tenant, kind=Run.Kind.CHANGES)
