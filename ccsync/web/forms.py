from typing import Any

from django import forms

from tenants.sales_facts import FACTS


class ListChoiceForm(forms.Form):
    """The Settings dropdown: only the account's own lists can be chosen."""

    list_id = forms.ChoiceField(label="Constant Contact list")

    def __init__(self, *args: Any, lists: list[dict[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lists = {item["list_id"]: item["name"] for item in lists}
        field = self.fields["list_id"]
        assert isinstance(field, forms.ChoiceField)  # list_id, declared above
        field.choices = [("", "Choose a list")] + list(self.lists.items())

    @property
    def list_name(self) -> str:
        return self.lists[self.cleaned_data["list_id"]]


class NewListForm(forms.Form):
    name = forms.CharField(label="New list name", max_length=255, strip=True)


class SwitchTenantForm(forms.Form):
    tenant_id = forms.IntegerField(widget=forms.HiddenInput)


# Its inputs sit below "create a new list" but are sent with the Settings form.
_WITH_SETTINGS = {"form": "settings-form"}


class SalesDataForm(forms.Form):
    """Settings' "Also send sales data for segmenting" (off unless chosen)."""

    enabled = forms.BooleanField(
        label="Also send sales data for segmenting",
        required=False,
        widget=forms.CheckboxInput(attrs=_WITH_SETTINGS),
    )
    facts = forms.MultipleChoiceField(
        label="Facts to send, each one a custom field in Constant Contact",
        choices=[(fact.key, f"{fact.choice} (“{fact.label}”)") for fact in FACTS],
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs=_WITH_SETTINGS),
    )
    tag_enabled = forms.BooleanField(
        label="Tag every contact the app syncs",
        required=False,
        widget=forms.CheckboxInput(attrs=_WITH_SETTINGS),
    )
    tag_name = forms.CharField(
        label="Tag",
        max_length=255,
        required=False,
        strip=True,
        widget=forms.TextInput(attrs=_WITH_SETTINGS),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "sales")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("tag_enabled") and not data.get("tag_name"):
            self.add_error("tag_name", "Name the tag, or untick “Tag every contact”.")
        if data.get("enabled") and not data.get("facts") and not data.get("tag_enabled"):
            self.add_error("facts", "Choose at least one fact to send, or the tag.")
        return data
