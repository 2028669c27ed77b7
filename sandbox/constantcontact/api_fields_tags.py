"""The V3 API's custom fields and tags (base /cc/v3): GET/POST /contact_custom_fields,
GET/PUT/DELETE /contact_custom_fields/{id}, GET/POST /contact_tags, GET /contact_tags/{id}
and POST /activities/contacts_taggings_add. Thin views over `custom_fields`, `tags` and
`activities`, behind the same token, scope and rate limits as every other call."""

from typing import Any

from django.http import HttpRequest, HttpResponse

from sandbox.constantcontact import activities, custom_fields, params, shapes, tags
from sandbox.constantcontact.api import endpoint, json_answer, json_body
from sandbox.constantcontact.faults import bad_request
from sandbox.constantcontact.models import Account


def _page(request: HttpRequest, found, *, path: str, default: int, top: int):
    """One page of `found` by the query's limit, and the query that resumes after it."""
    query = params.query(request)
    limit = params.limit(query.get("limit"), default=default, top=top)
    offset = int(query.get("offset", 0))
    rows = list(found[offset : offset + limit + 1])
    links = (
        params.next_link(path, {**query, "offset": offset + limit}) if len(rows) > limit else None
    )
    return query, rows[:limit], links


@endpoint(methods=("GET", "POST"))
def custom_field_collection(request: HttpRequest, account: Account) -> HttpResponse:
    if request.method == "POST":
        created = custom_fields.create_field(account=account, body=json_body(request))
        return json_answer(shapes.custom_field_json(created), status=201)
    _, rows, links = _page(
        request,
        custom_fields.fields_of(account),
        path="contact_custom_fields",
        default=50,
        top=100,
    )
    answer: dict[str, Any] = {"custom_fields": [shapes.custom_field_json(f) for f in rows]}
    if links:
        answer["_links"] = links
    return json_answer(answer)


@endpoint(methods=("GET", "PUT", "DELETE"))
def custom_field(request: HttpRequest, account: Account, custom_field_id: str) -> HttpResponse:
    found = custom_fields.get_field(account=account, custom_field_id=custom_field_id)
    if request.method == "PUT":
        # The spec's updateCustomField_request: only the label (and choices) can change.
        body = json_body(request)
        label = body.get("label") if isinstance(body, dict) else None
        if not isinstance(label, str) or not 1 <= len(label.strip()) <= custom_fields.MAX_LABEL:
            raise bad_request(f"'label' is required, 1 to {custom_fields.MAX_LABEL} characters.")
        found.label = label.strip()
        found.save(update_fields=["label", "updated_at"])
    elif request.method == "DELETE":
        found.delete()
        return HttpResponse(status=204)
    return json_answer(shapes.custom_field_json(found))


@endpoint(methods=("GET", "POST"))
def tag_collection(request: HttpRequest, account: Account) -> HttpResponse:
    if request.method == "POST":
        created = tags.create_tag(account=account, body=json_body(request))
        return json_answer(tags.tag_json(created), status=201)
    query, rows, links = _page(
        request, tags.tags_of(account), path="contact_tags", default=50, top=500
    )
    counting = params.flag(query.get("include_count"), "include_count")
    counts = tags.contacts_counts(rows) if counting else {}
    answer: dict[str, Any] = {
        "tags": [tags.tag_json(tag, contacts_count=counts.get(tag.pk)) for tag in rows]
    }
    if links:
        answer["_links"] = links
    return json_answer(answer)


@endpoint(methods=("GET",))
def tag(request: HttpRequest, account: Account, tag_id: str) -> HttpResponse:
    found = tags.get_tag(account=account, tag_id=tag_id)
    counting = params.flag(request.GET.get("include_count"), "include_count")
    count = tags.contacts_counts([found]).get(found.pk) if counting else None
    return json_answer(tags.tag_json(found, contacts_count=count))


@endpoint(methods=("POST",))
def contacts_taggings_add(request: HttpRequest, account: Account) -> HttpResponse:
    created = activities.create_add_taggings(account=account, body=json_body(request))
    return json_answer(shapes.activity_json(created), status=201)
