"""``voicedsp serve``: the platform as a process, with an HTTP control plane.

The control plane has the ClutchCall wire shape: tRPC-style procedure paths
(``POST /voice.calls.originate``, ``GET /voice.calls.get?input={"sid": ...}`` or ``POST`` with
a JSON body, ``POST /voice.agents.attach`` ...), answers ``{"result": {"data": ...}}`` or
``{"error": {"message", "code", "data": {"httpStatus"}}}``. Every request needs
``Authorization: Bearer <api key>``; the key names the organization (a wrong key is 401; an
``X-Org-Id`` that is not the key's organization is 403). Calls are scoped to their
organization: another organization's call is reported as not found (404) on every path,
including the media WebSocket paths (events, audio bridge).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from typing import Any, Optional

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from voicedsp.platform._util import dumps, loads
from voicedsp.platform.core import Platform
from voicedsp.platform.spec import (AuthError, BadRequestError, ForbiddenError, PlatformError,
                                    clamp_ring_timeout)

__all__ = ["make_app", "serve", "parse_api_keys"]


def parse_api_keys(items) -> dict:
    """``["org:key", ...]`` -> ``{key: org}``."""
    keys = {}
    for item in items or ():
        for part in str(item).split(","):
            part = part.strip()
            if not part:
                continue
            org, sep, key = part.partition(":")
            if not sep or not org or not key:
                raise ValueError(f"API key {part!r}: expected ORG:KEY")
            keys[key] = org
    return keys


def _json(data: Any, status: int = 200) -> Response:
    return Response(dumps(data), status_code=status, media_type="application/json")


def _error(exc: PlatformError) -> Response:
    return _json({"error": {"message": str(exc), "code": exc.code,
                            "data": {"httpStatus": exc.http_status}}}, exc.http_status)


def make_app(platform: Platform) -> Starlette:
    """The control-plane ASGI app over ``platform`` (which the app starts and stops)."""

    def org_of(request: Request) -> str:
        auth = request.headers.get("authorization", "")
        key = auth[7:] if auth.lower().startswith("bearer ") else None
        if platform.api_keys is not None and key is None:
            raise AuthError("missing bearer API key")
        org = platform.org_for_key(key)
        claimed = request.headers.get("x-org-id")
        if claimed and claimed != org:
            raise ForbiddenError(f"this API key does not belong to organization {claimed!r}")
        return org

    async def payload(request: Request) -> dict:
        try:
            if request.method == "GET":
                raw = request.query_params.get("input")
                data = loads(raw) if raw else {}
            else:
                body = await request.body()
                data = loads(body) if body else {}
        except ValueError as exc:
            raise BadRequestError(f"malformed JSON input: {exc}") from exc
        if isinstance(data, dict) and set(data) == {"json"}:   # tRPC superjson envelope
            data = data["json"]
        if not isinstance(data, dict):
            raise BadRequestError("input must be a JSON object")
        return data

    def need(d: dict, name: str) -> Any:
        v = d.get(name)
        if v is None:
            raise BadRequestError(f"missing field {name!r}")
        return v

    async def info(org, d):
        return {"media_url": platform.media_url, "org_id": org,
                "trunks": sorted(platform.trunks), **platform.stats()}

    async def agents_register(org, d):
        spec = platform.register_agent(org, need(d, "agent_id"), need(d, "spec"))
        return {"agent_id": d["agent_id"], "spec": spec.to_dict()}

    async def agents_list(org, d):
        return {k: v.to_dict() for k, v in platform.agents[org].items()}

    async def agents_attach(org, d):
        return (await platform.attach_agent(org, need(d, "call_sid"), need(d, "agent"))).info()

    async def agents_detach(org, d):
        return {"detached": await platform.detach_agent(org, need(d, "call_sid"))}

    async def calls_originate(org, d):
        call = await platform.originate(org, need(d, "to"), d.get("from") or d.get("from_"),
                                        d.get("trunk_id"), d.get("agent"),
                                        clamp_ring_timeout(d.get("ring_timeout_sec", 30)))
        return call.info()

    async def calls_get(org, d):
        return platform.get_call(org, need(d, "sid")).info()

    async def calls_list(org, d):
        return [c.info() for c in platform.calls.values() if c.org_id == org]

    async def calls_hangup(org, d):
        return (await platform.hangup(org, need(d, "sid"))).info()

    async def calls_transfer(org, d):
        return (await platform.transfer(org, d.get("call_sid") or need(d, "sid"),
                                        need(d, "agent"))).info()

    procs = {
        "voice.platform.info": (info, ("GET", "POST")),
        "voice.agents.register": (agents_register, ("POST",)),
        "voice.agents.list": (agents_list, ("GET", "POST")),
        "voice.agents.attach": (agents_attach, ("POST",)),
        "voice.agents.detach": (agents_detach, ("POST",)),
        "voice.calls.originate": (calls_originate, ("POST",)),
        "voice.calls.get": (calls_get, ("GET", "POST")),
        "voice.calls.list": (calls_list, ("GET", "POST")),
        "voice.calls.hangup": (calls_hangup, ("POST",)),
        "voice.calls.transfer": (calls_transfer, ("POST",)),
    }

    def endpoint(fn):
        async def handle(request: Request) -> Response:
            try:
                org = org_of(request)
                data = await fn(org, await payload(request))
                return _json({"result": {"data": data}})
            except PlatformError as exc:
                return _error(exc)
            except (ValueError, TypeError) as exc:
                return _error(BadRequestError(str(exc)))
        return handle

    async def health(request: Request) -> Response:
        return _json({"ok": True, **platform.stats()})

    routes = [Route(f"/{name}", endpoint(fn), methods=list(methods))
              for name, (fn, methods) in procs.items()]
    routes.append(Route("/healthz", health, methods=["GET"]))

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app):
        await platform.start()
        try:
            yield
        finally:
            await platform.stop()

    return Starlette(routes=routes, lifespan=lifespan)


async def serve(host: str = "127.0.0.1", port: int = 8080, *, media_port: int = 0,
                api_keys: Optional[dict] = None, max_calls: int = 1000,
                model_url: Optional[str] = None, model_api_key: Optional[str] = None,
                local_model: Optional[dict] = None, ready=None) -> None:
    """Run the control plane (uvicorn) and the platform until cancelled."""
    import uvicorn

    platform = Platform(host=host, media_port=media_port, model_url=model_url,
                        model_api_key=model_api_key, local_model=local_model,
                        max_calls=max_calls, api_keys=api_keys)
    config = uvicorn.Config(make_app(platform), host=host, port=port, log_level="warning",
                            lifespan="on", ws="none")
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        if task.done():
            await task
            raise OSError(f"cannot serve on {host}:{port}")
        await asyncio.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    if ready is not None:
        ready(f"http://{host}:{bound}", platform)
    try:
        await task
    finally:
        server.should_exit = True


def default_keys() -> dict:
    env = os.environ.get("VOICEDSP_API_KEYS")
    if env:
        return parse_api_keys([env])
    return {"vk_" + secrets.token_hex(16): "default"}
