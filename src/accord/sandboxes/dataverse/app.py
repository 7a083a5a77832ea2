"""Dataverse Web API sandbox: routing, authentication and assembly.

Routes (relative to ``/api/data/v9.2``): ``{set}``, ``{set}({guid})``, ``{set}(key='v')``,
``$batch``, ``$metadata``, ``WhoAmI``, ``EntityDefinitions(...)`` and the
``InsertOptionValue`` and ``UpdateOptionValue`` actions.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from accord.sandboxes.common.base import SandboxCore, assemble
from accord.sandboxes.common.clock import Clock
from accord.sandboxes.common.faults import Faults
from accord.sandboxes.common.http import Req, Resp, make_endpoint
from accord.sandboxes.common.identity import Identity
from accord.sandboxes.common.limits import DATAVERSE, Limits
from accord.sandboxes.common.odata import ODataError
from accord.sandboxes.common.seed import Gen
from accord.sandboxes.common.store import Store
from accord.sandboxes.dataverse import entities, seed
from accord.sandboxes.dataverse.batch import BatchRunner
from accord.sandboxes.dataverse.csdl import csdl
from accord.sandboxes.dataverse.document_rules import DvDocuments
from accord.sandboxes.dataverse.metadata import Metadata
from accord.sandboxes.dataverse.protocol import BAD_SYNTAX, DvOptions, error, fault_body, parse_key
from accord.sandboxes.dataverse.query import list_rows
from accord.sandboxes.dataverse.resources import DvResources
from accord.sandboxes.dataverse.webhooks import WebhookSteps, seed_messages

NAME = "dataverse"
API_ROOT = "/api/data/v9.2"
JSON_TYPE = "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8"
_SEG = re.compile(r"^(?P<name>[A-Za-z$][\w.]*)(?:\((?P<key>.*)\))?$")


class Dataverse:
    """Request router for one Dataverse sandbox."""

    def __init__(self, store: Store, options: DvOptions, faults: Faults, clock: Clock) -> None:
        self.store = store
        self.options = options
        self.faults = faults
        self.clock = clock
        self.metadata = Metadata(options, store.specs)
        self.resources = DvResources(store, options, self.metadata)
        self.batch = BatchRunner(faults.inner(self.dispatch), store, options, faults.note)
        self.documents = DvDocuments(store, self.resources)

    def dispatch(self, req: Req) -> Resp:
        """Route one API request (also used for every $batch part)."""
        path = req.path.strip("/")
        req.path = path
        if path == "$batch":
            if req.method != "POST":
                return error(405, BAD_SYNTAX, "Use POST for $batch.")
            return self.batch.run(req)
        if path == "WhoAmI" and req.method == "GET":
            return self.metadata.who_am_i(req, self.resources.user_for(req.client_id))
        if path == "InsertOptionValue" and req.method == "POST":
            return self.resources.guarded(self.metadata.insert_option_value, req)
        if path == "UpdateOptionValue" and req.method == "POST":
            return self.resources.guarded(self.metadata.update_option_value, req)
        if path.startswith("EntityDefinitions"):
            return self.metadata.handle(req)
        handled = self.documents.route(req)
        if handled is not None:
            return handled
        if path == "$metadata" and req.method == "GET":
            annotated = req.query.get("annotations", "").lower() == "true"
            document = csdl(self.store.specs.values(), annotations=annotated)
            return Resp(200, raw=document.encode(), headers={"Content-Type": "application/xml"})
        seg = _SEG.match(path)
        spec = self.store.specs.get(seg["name"]) if seg else None
        if seg is None or spec is None:
            return error(
                404,
                "0x8006088a",
                f"Resource not found for the segment '{path.split('(')[0].split('/')[0]}'.",
            )
        res = self.resources
        if seg["key"] is None:
            if req.method == "GET":
                return res.guarded(list_rows, req, spec, self.store, self.options, self.clock)
            if req.method == "POST":
                return res.guarded(res.create, req, spec)
            return error(405, BAD_SYNTAX, f"Method {req.method} is not allowed on {spec.name}.")
        try:
            key = parse_key(spec, seg["key"], self.options)
        except ODataError as exc:
            return error(exc.status, exc.code, exc.message)
        handler = {"GET": res.get, "PATCH": res.upsert, "DELETE": res.delete}.get(req.method)
        if handler is None:
            return error(405, BAD_SYNTAX, f"Method {req.method} is not allowed on {spec.name}.")
        return res.guarded(handler, req, spec, key)


def build(
    *,
    records: int = 100,
    seed_value: int = 7,
    token_lifetime: int = 3600,
    database_dir: str | None = None,
    options: DvOptions | None = None,
    seed_overlap: float = 0.5,
) -> SandboxCore:
    """Create, seed and assemble a Dataverse sandbox (not yet served)."""
    opts = options or DvOptions()
    clock = Clock()
    folder = Path(database_dir or tempfile.mkdtemp(prefix="accord-dv-"))
    folder.mkdir(parents=True, exist_ok=True)
    specs = entities.with_custom_columns(entities.SPECS, opts.custom_columns)
    store = Store(specs, str(folder / "dataverse.sqlite"), clock)
    gen = Gen(seed_value, "dv-credentials")
    client_id = gen.guid()
    ids = seed.seed(store, records, seed_value, client_id, seed_overlap)
    seed_messages(store, seed_value)
    store.create_indexes()
    scope = f"{opts.resource}/.default"
    identity = Identity(
        tenant=opts.tenant,
        client_id=client_id,
        client_secret=f"dv~{gen.guid().replace('-', '')}",
        scopes={scope},
        lifetime=token_lifetime,
        clock=clock,
    )
    faults = Faults(fault_body, api_prefix=API_ROOT)
    limits = Limits(DATAVERSE, identity.verify, API_ROOT)
    router = Dataverse(store, opts, faults, clock)
    steps = WebhookSteps(store, opts.tenant)
    router.resources.fallback_user = ids["integration_user"]

    def authenticate(req: Req) -> Resp | None:
        req.client_id = identity.verify(req.header("authorization"))
        if req.client_id is not None:
            return None
        return Resp(
            401,
            None,
            {
                "WWW-Authenticate": (
                    f"Bearer authorization_uri=https://login.microsoftonline.com/{opts.tenant}/oauth2/"
                    f"authorize, resource_id={opts.resource}/"
                )
            },
        )

    app = assemble(
        API_ROOT,
        make_endpoint(API_ROOT, router.dispatch, authenticate, JSON_TYPE),
        identity,
        faults,
        clock,
        limits,
    )
    return SandboxCore(
        name=NAME,
        app=app,
        store=store,
        faults=faults,
        identity=identity,
        clock=clock,
        api_path=API_ROOT,
        scope=scope,
        limits=limits,
        extra={"router": router, "options": opts, "webhook_steps": steps, **ids},
        closers=[steps.stop],
    )
