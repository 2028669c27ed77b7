"""The customer form of the customers page, to and from QuickBooks' Customer JSON."""

from typing import Any

from django import forms

from sandbox.quickbooks.selectors import ADDRESSES

NAME_FIELDS = ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix", "DisplayName")
PHONE_FIELDS = ("PrimaryPhone", "Mobile", "AlternatePhone", "Fax")
ADDRESS_PARTS = ("Line1", "Line2", "City", "CountrySubDivisionCode", "PostalCode", "Country")
LABELS = {
    "Title": "Title",
    "GivenName": "First name",
    "MiddleName": "Middle name",
    "FamilyName": "Last name",
    "Suffix": "Suffix",
    "DisplayName": "Customer display name",
    "CompanyName": "Company name",
    "Email": "Email",
    "PrimaryPhone": "Phone",
    "Mobile": "Mobile",
    "AlternatePhone": "Other",
    "Fax": "Fax",
    "Parent": "Sub-customer of (customer Id)",
    "Notes": "Notes",
    "Line1": "Street address 1",
    "Line2": "Street address 2",
    "City": "City/Town",
    "CountrySubDivisionCode": "State",
    "PostalCode": "ZIP code",
    "Country": "Country",
}


def _text(label: str, max_length: int = 500) -> forms.CharField:
    return forms.CharField(label=label, required=False, max_length=max_length)


class CustomerForm(forms.Form):
    """Flat fields named after the JSON properties (addresses as BillAddr_City, ...)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for name in (*NAME_FIELDS, "CompanyName"):
            self.fields[name] = _text(LABELS[name])
        self.fields["Email"] = _text(LABELS["Email"], 100)
        for name in PHONE_FIELDS:
            self.fields[name] = _text(LABELS[name], 100)
        self.fields["Parent"] = forms.RegexField(
            label=LABELS["Parent"], regex=r"^\d*$", required=False
        )
        for address in ADDRESSES:
            for part in ADDRESS_PARTS:
                self.fields[f"{address}_{part}"] = _text(LABELS[part])
        self.fields["Notes"] = forms.CharField(
            label=LABELS["Notes"], required=False, widget=forms.Textarea(attrs={"rows": 2})
        )

    def billing_fields(self) -> list[forms.BoundField]:
        return [self[f"BillAddr_{part}"] for part in ADDRESS_PARTS]

    def shipping_fields(self) -> list[forms.BoundField]:
        return [self[f"ShipAddr_{part}"] for part in ADDRESS_PARTS]

    def main_fields(self) -> list[forms.BoundField]:
        names = (*NAME_FIELDS, "CompanyName", "Email", *PHONE_FIELDS, "Parent", "Notes")
        return [self[name] for name in names]

    @staticmethod
    def initial_from(customer: dict[str, Any]) -> dict[str, Any]:
        initial = {name: customer.get(name, "") for name in (*NAME_FIELDS, "CompanyName", "Notes")}
        initial["Email"] = (customer.get("PrimaryEmailAddr") or {}).get("Address", "")
        for name in PHONE_FIELDS:
            initial[name] = (customer.get(name) or {}).get("FreeFormNumber", "")
        initial["Parent"] = (customer.get("ParentRef") or {}).get("value", "")
        for address in ADDRESSES:
            for part in ADDRESS_PARTS:
                initial[f"{address}_{part}"] = (customer.get(address) or {}).get(part, "")
        return initial

    def customer_fields(self, *, existing: dict[str, Any] | None = None) -> dict[str, Any]:
        """The cleaned form as Customer properties; blank ones as None (removed). Address
        parts the form does not show (Line3-Line5, ...) are kept from `existing`."""
        data = self.cleaned_data
        fields: dict[str, Any] = {
            name: data[name].strip() or None for name in (*NAME_FIELDS, "CompanyName", "Notes")
        }
        fields["PrimaryEmailAddr"] = {"Address": data["Email"].strip()} if data["Email"] else None
        for name in PHONE_FIELDS:
            fields[name] = {"FreeFormNumber": data[name].strip()} if data[name].strip() else None
        fields["ParentRef"] = {"value": data["Parent"]} if data["Parent"] else None
        for address in ADDRESSES:
            kept = {
                part: value
                for part, value in ((existing or {}).get(address) or {}).items()
                if part not in ADDRESS_PARTS
            }
            shown = {
                part: data[f"{address}_{part}"].strip()
                for part in ADDRESS_PARTS
                if data[f"{address}_{part}"].strip()
            }
            fields[address] = {**kept, **shown} if shown else None
        return fields
