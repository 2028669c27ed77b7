"""A URL's query string as a dict, the way the tests and benchmarks read redirects."""

from urllib.parse import parse_qs, urlsplit


def query_of(url: str) -> dict[str, str]:
    """The first value of each parameter of `url`'s query string."""
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
