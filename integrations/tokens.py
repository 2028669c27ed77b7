"""How provider clients get access tokens: the caller owns storage and refreshing."""

from typing import Protocol


class TokenSource(Protocol):
    def access_token(self) -> str:
        """The current access token."""
        ...

    def renew(self, *, rejected: str) -> str:
        """A fresh access token, after the provider answered 401 to `rejected`."""
        ...
