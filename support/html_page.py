"""Forms and links of an HTML page, read the way a browser would submit them (tests that
click through the sandbox's and our pages without a real browser)."""

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # name, value, text
    radios: dict[str, list[str]] = field(default_factory=dict)
    selects: dict[str, list[str]] = field(default_factory=dict)


class Page(HTMLParser):
    """The forms, options and links of an HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.links: list[tuple[str, str]] = []  # text, href
        self._form: Form | None = None
        self._button: list[str] | None = None
        self._link: list[str] | None = None
        self._select: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        form = self._form
        if tag == "form":
            self._form = Form(action=attrs.get("action", ""), method=attrs.get("method", "get"))
            self.forms.append(self._form)
        elif tag == "input" and form is not None and "name" in attrs:
            kind = attrs.get("type", "text")
            if kind == "radio":
                form.radios.setdefault(attrs["name"], []).append(attrs["value"])
            elif kind != "checkbox" or "checked" in attrs:
                form.fields[attrs["name"]] = attrs.get("value", "")
        elif tag == "button" and form is not None:
            self._button = [attrs.get("name", ""), attrs.get("value", ""), ""]
        elif tag == "select" and form is not None:
            self._select = attrs["name"]
            form.selects[self._select] = []
        elif tag == "option" and form is not None and self._select:
            form.selects[self._select].append(attrs.get("value", ""))
        elif tag == "a":
            self._link = [attrs.get("href", ""), ""]

    def handle_data(self, data):
        if self._button is not None:
            self._button[2] += data
        if self._link is not None:
            self._link[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "button" and self._button is not None and self._form is not None:
            self._form.buttons.append(tuple(self._button))
            self._button = None
        elif tag == "a" and self._link is not None:
            self.links.append((self._link[1].strip(), self._link[0]))
            self._link = None

    def form_with(self, button_text: str) -> tuple[Form, tuple[str, str, str]]:
        for form in self.forms:
            for button in form.buttons:
                if button[2].strip() == button_text:
                    return form, button
        raise AssertionError(f"no button {button_text!r} on the page")

    def link(self, text: str) -> str:
        return next(href for label, href in self.links if label == text)
