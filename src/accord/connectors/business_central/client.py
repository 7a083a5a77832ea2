"""Business Central specifics on top of the HTTP client: environment, company, JSON $batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from accord.connectors.http import HttpClient
from accord.connectors.odata import json_batch
from accord.connectors.odata.errors import call_error
from accord.connectors.odata.literals import is_guid
from accord.errors import ConfigError, Phase

DEFAULT_SCOPE = "https://api.businesscentral.dynamics.com/.default"


def with_environment(base_url: str, environment: str | None) -> str:
    """Replace the environment segment (the one just before ``/api/``) of ``base_url``."""
    if not environment:
        return base_url
    url = base_url.rstrip("/")
    cut = url.rfind("/api/")
    head, tail = (url[:cut], url[cut:]) if cut >= 0 else (url, "")
    parent, sep, _ = head.rpartition("/")
    if not sep or "://" not in parent:
        raise ConfigError(f"cannot find the environment segment in base URL {base_url!r}")
    return f"{parent}/{environment}{tail}"


class BusinessCentralClient:
    """Resolves the company once and posts JSON batches."""

    def __init__(self, http: HttpClient, company: str | None) -> None:
        self.http = http
        self.company_option = company
        self._company_id: str | None = company.lower() if company and is_guid(company) else None
        self.company_name: str | None = None

    @property
    def company_id(self) -> str:
        if self._company_id is None:
            self.resolve_company()
        assert self._company_id is not None
        return self._company_id

    def companies(self) -> list[dict[str, Any]]:
        response = self.http.get("companies")
        if response.status_code != 200:
            prefix = f"connection {self.http.connection!r}: GET {response.request.url}"
            raise call_error(response, self.http.errors, prefix, Phase.CONNECT)
        value: list[dict[str, Any]] = response.json().get("value", [])
        return value

    def resolve_company(self) -> str:
        """Choose the company by id or name (``GET companies``); error lists valid names."""
        companies = self.companies()
        wanted = (self.company_option or "").strip()
        if not wanted and len(companies) == 1:
            match: dict[str, Any] | None = companies[0]
        else:
            lowered = wanted.lower()
            match = next(
                (c for c in companies if str(c.get("id", "")).lower() == lowered), None
            ) or next(
                (
                    c
                    for c in companies
                    if lowered
                    in (str(c.get("name", "")).lower(), str(c.get("displayName", "")).lower())
                ),
                None,
            )
        if match is None:
            names = ", ".join(repr(str(c.get("name"))) for c in companies) or "(none)"
            what = f"company {wanted!r} was not found" if wanted else "option 'company' is required"
            raise ConfigError(
                f"{what} in {self.http.base_url}; valid companies: {names}",
                location=f"connection {self.http.connection!r}",
            )
        self._company_id = str(match["id"]).lower()
        self.company_name = str(match.get("name") or "")
        return self._company_id

    def post_batch(self, requests: Sequence[json_batch.BatchRequest], url: str = "$batch") -> Any:
        """POST one JSON batch to ``url`` (an API's ``$batch``; its requests are relative to
        that API's root); returns the HTTP response (caller interprets it)."""
        return self.http.request(
            "POST",
            url,
            content=json_batch.encode(requests),
            headers={"Content-Type": json_batch.CONTENT_TYPE},
            idempotent=False,
        )
