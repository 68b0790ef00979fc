"""The platform's public SM2 keys (issue 19 item 4): what verifies the signatures of exports and exchange
batches. Public: a public key is meant to be published (docs/crypto.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ecohub.api.deps import platform_keys
from ecohub.api.http import json_response

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])


@router.get("/platform", summary="The platform's SM2 public keys (current first; retired ones still verify)")
async def platform(request: Request):
    """``current``: the key id that signs now; ``keys``: every public key with its id, hex (04||x||y), PEM,
    creation time, algorithm (SM2 with SM3, GB/T 32918.2) and the signer id used in Z (GB/T 35276)."""
    keys = await run_in_threadpool(platform_keys(request).public_keys)
    current = next((k["key_id"] for k in keys if k["current"]), None)
    return json_response(request, {"current": current, "keys": keys})
