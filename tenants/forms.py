from typing import Any

from django import forms


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
