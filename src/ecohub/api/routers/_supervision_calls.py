"""Mapping of the supervision services' errors to problems, shared by the cases, inspections and credit
routers: NotFound → 404, PermissionError → 403, a step the procedure does not allow → 409, InputError → 400 (field, value, reason in the detail)."""

from __future__ import annotations

from ecohub.api.problems import ApiProblem, bad_request, forbidden, not_found
from ecohub.domain.errors import InputError, NotFound
from ecohub.supervision.cases.service import IllegalStep
from ecohub.supervision.complaint_loop import IllegalStep as IllegalLoopStep


def call(fn, *args, what: str = "resource", **kw):
    try:
        return fn(*args, **kw)
    except NotFound as e:
        raise not_found(str(e).removesuffix(" not found") or what) from None
    except PermissionError as e:
        raise forbidden(str(e)) from None
    except (IllegalStep, IllegalLoopStep) as e:
        raise ApiProblem(409, str(e)) from None
    except InputError as e:
        raise bad_request(e) from None
