"""Business Central API v2.0 sandbox: routing, authentication and assembly.

Routes (relative to ``/v2.0/{tenant}/{environment}/api/v2.0``): ``companies``,
``companies({id})``, ``companies({id})/{entitySet}[({id})]``, ``{entitySet}[({id})]`` with a
``Company`` header or ``company`` query option, ``$batch`` and ``$metadata``; the same below
``/api/accord/integration/v1.0`` for the custom API group (:mod:`.group`).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from accord.sandboxes.business_central import entities, seed
from accord.sandboxes.business_central.batch import run_batch
from accord.sandboxes.business_central.custom_api import ROUTE as GROUP_ROUTE
from accord.sandboxes.business_central.custom_api import SPECS as GROUP_SPECS
from accord.sandboxes.business_central.document_routes import BcDocuments
from accord.sandboxes.business_central.metadata import csdl
from accord.sandboxes.business_central.protocol import BcOptions, error, fault_body
from accord.sandboxes.business_central.resources import BcResources
from accord.sandboxes.business_central.subscriptions import Subscriptions
from accord.sandboxes.common.base import SandboxCore, assemble
from accord.sandboxes.common.clock import Clock
from accord.sandboxes.common.faults import Faults
from accord.sandboxes.common.http import Req, Resp, make_endpoint
from accord.sandboxes.common.identity import Identity
from accord.sandboxes.common.limits import BUSINESS_CENTRAL, Limits
from accord.sandboxes.common.odata import GUID_RE
from accord.sandboxes.common.seed import Gen
from accord.sandboxes.common.store import EntitySpec, Store

NAME = "business-central"
SCOPE = "https://api.businesscentral.dynamics.com/.default"
JSON_TYPE = (
    "application/json; odata.metadata=minimal; odata.streaming=true; "
    "IEEE754Compatible=false; charset=utf-8"
)
_SEG = re.compile(r"^(?P<name>[A-Za-z$][\w.]*)(?:\((?P<key>[^)]*)\))?(?:/(?P<rest>.*))?$")
WriteObserver = Callable[[str, str, str, "str | None", Resp], None]
"""Called after a successful write: (method, entity set, company, key or None, response)."""


class BusinessCentral:
    """Request router for one Business Central sandbox."""

    def __init__(
        self,
        store: Store,
        options: BcOptions,
        faults: Faults,
        specs: tuple[EntitySpec, ...] = entities.SPECS,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.options = options
        self.faults = faults
        self.subscriptions = Subscriptions(store, clock or store.clock, options.webhooks)
        self.resources = BcResources(store, options)
        self.by_name = {s.name: s for s in specs}
        self._metadata = csdl(specs)
        self.observers: list[WriteObserver] = []
        served = "salesOrders" in self.by_name  # the v2.0 router, not the custom API group's
        self.documents = BcDocuments(store, self.resources) if served else None

    def _company_by_ref(self, ref: str) -> str | None:
        if GUID_RE.match(ref) and self.store.get_raw("companies", ref.lower()):
            return ref.lower()
        rows = self.store.find_raw("companies", {"name": ref})
        return str(rows[0]["id"]) if rows else None

    def dispatch(self, req: Req) -> Resp:
        """Route one API request (also used for every $batch operation)."""
        path = req.path.strip("/")
        if path == "$batch":
            if req.method != "POST":
                return error(405, "BadRequest_MethodNotAllowed", "Use POST for $batch.")
            return run_batch(
                req, self.faults.inner(self.dispatch), self.store, self.options, self.faults.note
            )
        if path == "$metadata":
            return Resp(
                200,
                raw=self._metadata.encode(),
                headers={"Content-Type": "application/xml; charset=utf-8"},
            )
        seg = _SEG.match(path)
        if seg is None:
            return error(
                404, "BadRequest_ResourceNotFound", f"Resource not found for the segment '{path}'."
            )
        name, key, rest = seg["name"], seg["key"], seg["rest"]
        if name == "subscriptions" and rest is None:
            return self.subscriptions.handle(req, key)
        if name != "companies":
            ref = req.header("company") or req.query.get("company")
            company = self._company_by_ref(ref) if ref else None
            if company is None:
                return error(
                    400,
                    "BadRequest_NotFound",
                    "The company could not be determined. Use companies({id})/… or "
                    "send a Company header.",
                )
            return self.entity(req, company, name, key, rest)
        spec = entities.BY_NAME["companies"]
        if key is None:
            if rest is not None:
                return error(
                    404,
                    "BadRequest_ResourceNotFound",
                    f"Resource not found for the segment '{rest}'.",
                )
            if req.method != "GET":
                return error(
                    405,
                    "BadRequest_MethodNotAllowed",
                    f"'{req.method}' requests for 'companies' are not allowed.",
                )
            return self.resources.guarded(self.resources.list, req, spec, "")
        if not GUID_RE.match(key) or self.store.get_raw("companies", key.lower()) is None:
            return error(404, "BadRequest_NotFound", f"The company '{key}' does not exist.")
        company = key.lower()
        if rest is None:
            return self.resources.guarded(self.resources.get, req, spec, "", company)
        seg = _SEG.match(rest)
        if seg is None:
            return error(
                404, "BadRequest_ResourceNotFound", f"Resource not found for the segment '{rest}'."
            )
        return self.entity(req, company, seg["name"], seg["key"], seg["rest"])

    def entity(self, req: Req, company: str, name: str, key: str | None, rest: str | None) -> Resp:
        """Entity-set or single-entity request inside a company."""
        spec = self.by_name.get(name)
        if spec is None or not spec.scoped:
            return error(
                404, "BadRequest_ResourceNotFound", f"Resource not found for the segment '{name}'."
            )
        handled = self.documents.route(req, company, spec, key, rest) if self.documents else None
        if handled is not None:
            plain = key.lower() if key and not rest else None
            return (
                handled if req.method == "GET" else self.written(req, name, company, plain, handled)
            )
        if rest:
            return error(
                404, "BadRequest_ResourceNotFound", f"Resource not found for the segment '{rest}'."
            )
        res = self.resources
        if key is None:
            if req.method == "GET":
                return res.guarded(res.list, req, spec, company)
            if req.method == "POST":
                return self.written(
                    req, name, company, None, res.guarded(res.create, req, spec, company)
                )
            return error(
                405,
                "BadRequest_MethodNotAllowed",
                f"'{req.method}' requests for '{name}' are not allowed.",
            )
        if not GUID_RE.match(key):
            return error(
                400,
                "BadRequest",
                f"Bad Request - Error in query syntax. The key '{key}' is not a GUID.",
            )
        key = key.lower()
        handler = {"GET": res.get, "PATCH": res.update, "DELETE": res.delete}.get(req.method)
        if handler is None:
            return error(
                405,
                "BadRequest_MethodNotAllowed",
                f"'{req.method}' requests for '{name}' are not allowed.",
            )
        resp = res.guarded(handler, req, spec, company, key)
        return resp if req.method == "GET" else self.written(req, name, company, key, resp)

    def written(self, req: Req, name: str, company: str, key: str | None, resp: Resp) -> Resp:
        """Tell the observers about a successful write; returns ``resp``."""
        if 200 <= resp.status < 300:
            for observe in self.observers:
                observe(req.method, name, company, key, resp)
        return resp


def unauthorized() -> Resp:
    """BC's answer to a missing, invalid or expired token."""
    return Resp(
        401,
        {
            "error": {
                "code": "Authentication_InvalidCredentials",
                "message": "The server has rejected the client credentials.  "
                f"CorrelationId:  {Gen(0).guid()}.",
            }
        },
        {
            "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/'
            'common/oauth2/authorize", error="invalid_token"'
        },
    )


def build(
    *,
    records: int = 100,
    seed_value: int = 7,
    token_lifetime: int = 3600,
    database_dir: str | None = None,
    options: BcOptions | None = None,
    custom_api: bool | None = None,
) -> SandboxCore:
    """Create, seed and assemble a Business Central sandbox (not yet served); ``custom_api``
    False serves a tenant without Accord's extension (the group's routes answer 404)."""
    from accord.sandboxes.business_central import group, group_seed  # they build on this module

    opts = options or BcOptions()
    if custom_api is not None:
        opts.custom_api = custom_api
    clock = Clock()
    folder = Path(database_dir or tempfile.mkdtemp(prefix="accord-bc-"))
    folder.mkdir(parents=True, exist_ok=True)
    store = Store(entities.SPECS + GROUP_SPECS, str(folder / "business-central.sqlite"), clock)
    companies = seed.seed(store, records, seed_value)
    group_seed.seed(store, companies, seed_value)
    store.create_indexes()
    gen = Gen(seed_value, "bc-credentials")
    identity = Identity(
        tenant=opts.tenant,
        client_id=gen.guid(),
        client_secret=f"bc~{gen.guid().replace('-', '')}",
        scopes={SCOPE},
        lifetime=token_lifetime,
        clock=clock,
    )
    api = f"/v2.0/{opts.tenant}/{opts.environment}/api"
    root, group_root = f"{api}/v2.0", f"{api}/{GROUP_ROUTE}"
    faults = Faults(fault_body, api_prefix=f"{api}/")
    limits = Limits(BUSINESS_CENTRAL, identity.verify, f"{api}/")
    router = BusinessCentral(store, opts, faults, clock=clock)
    extension = group.GroupRouter(store, opts, faults, router)

    def authenticate(req: Req) -> Resp | None:
        req.client_id = identity.verify(req.header("authorization"))
        return unauthorized() if req.client_id is None else None

    endpoint = group.by_prefix(
        {
            group_root: make_endpoint(group_root, extension.dispatch, authenticate, JSON_TYPE),
            root: make_endpoint(root, router.dispatch, authenticate, JSON_TYPE),
        }
    )
    app = assemble(api, endpoint, identity, faults, clock, limits)
    return SandboxCore(
        name=NAME,
        app=app,
        store=store,
        faults=faults,
        identity=identity,
        clock=clock,
        api_path=root,
        scope=SCOPE,
        company_id=companies[0]["id"],
        company_name=companies[0]["name"],
        limits=limits,
        extra={
            "router": router,
            "group_router": extension,
            "options": opts,
            "subscriptions": router.subscriptions,
        },
        closers=[router.subscriptions.stop],
    )
