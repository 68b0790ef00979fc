"""Messages of failed requests, for the page scripts (``EH.problem``, ``EH.api``): the server's problem texts are
English and generic for these statuses, so a page says them in its own language instead. Merged into the
catalogue of :mod:`ecohub.web.i18n`."""

from __future__ import annotations

ZH_ERRORS: dict[str, str] = {
    "err_400": "请求有误：",
    "err_401": "请先登录。",
    "err_403": "当前账号无权执行此操作。",
    "err_404": "未找到。",
    "err_413": "提交的内容过大。",
    "err_429": "操作过于频繁，请稍后再试。",
    "err_500": "服务器内部错误，已记录，请稍后再试。",
    "err_503": "系统繁忙或数据库暂不可用，请稍后再试。",
    "err_network": "网络连接失败，请检查网络后重试。",
}

EN_ERRORS: dict[str, str] = {
    "err_400": "The request is not valid:",
    "err_401": "Please sign in.",
    "err_403": "Your account may not do this.",
    "err_404": "Not found.",
    "err_413": "What you sent is too large.",
    "err_429": "Too many requests; please try again in a moment.",
    "err_500": "Internal error (logged); please try again later.",
    "err_503": "The system is busy or the database is unavailable; please try again in a moment.",
    "err_network": "The network connection failed; please check it and try again.",
}
