"""The error catalogue: domain errors with stable codes, answered as problem+json (RFC 9457).

Every error a user can meet has a stable ``code`` (English, snake_case) and a Chinese ``detail``
that says what to fix.  Database integrity errors are translated here, once, by SQLSTATE and
constraint name.  Only errors with status >= 500 are logged with a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """Base of every error answered to a user; subclasses fix ``code``, ``status`` and ``title``."""

    code = "internal_error"
    status = 500
    title = "Internal error"

    def __init__(self, detail: str, *, code: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.extra = extra or {}

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """Render as a problem+json body."""
        body: dict[str, Any] = {
            "type": f"https://sitewatch.example/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class BadRequest(AppError):
    """The request cannot be read (malformed JSON, bad parameter)."""

    code, status, title = "bad_request", 400, "Bad request"


class Unauthorized(AppError):
    """No valid login token."""

    code, status, title = "not_authenticated", 401, "Not authenticated"


class Forbidden(AppError):
    """The user may not do this."""

    code, status, title = "forbidden", 403, "Forbidden"


class NotFound(AppError):
    """The thing asked for does not exist."""

    code, status, title = "not_found", 404, "Not found"


class Conflict(AppError):
    """The request clashes with what is stored (a duplicate)."""

    code, status, title = "conflict", 409, "Conflict"


class PayloadTooLarge(AppError):
    """The request body is larger than allowed."""

    code, status, title = "body_too_large", 413, "Request body too large"


class Invalid(AppError):
    """The request is well-formed but its content breaks a rule."""

    code, status, title = "invalid", 422, "Unprocessable content"


#: Unique / foreign-key / check constraints by name -> (error class, code, Chinese detail).
CONSTRAINT_ERRORS: dict[str, tuple[type[AppError], str, str]] = {
    "uq_projects_code": (Conflict, "project_code_duplicate", "项目代码已存在，请检查国家项目代码是否重复。"),
    "uq_users_username": (Conflict, "username_duplicate", "用户名已存在，请换一个用户名。"),
    "uq_units_name": (Conflict, "unit_name_duplicate", "单位名称已存在。"),
    "uq_project_progress_project_id": (
        Conflict,
        "progress_duplicate",
        "该项目本月进度已填报；如需更正请修改已有记录。",
    ),
    "uq_land_parcels_year": (Conflict, "parcel_code_duplicate", "该年度已有相同编号的地块，请修改地块编号。"),
    "uq_approval_batches_year": (Conflict, "batch_number_duplicate", "该年度已有相同批次号。"),
    "inspection_locked": (Conflict, "inspection_locked", "督查记录已提交并锁定；如需更正请提交新版本。"),
    "ck_problems_deadline_after_finding": (
        Invalid,
        "deadline_before_finding",
        "整改期限不能早于发现问题的日期。",
    ),
    "uq_letters_year": (Conflict, "letter_number_duplicate", "文号已被使用。"),
    "fk_projects_township_id_townships": (Invalid, "unknown_township", "乡镇不存在，请从乡镇列表中选择。"),
    "fk_users_unit_id_units": (Invalid, "unknown_unit", "单位不存在，请从单位列表中选择。"),
}

#: Generic answers by SQLSTATE when no constraint name matches.
SQLSTATE_ERRORS: dict[str, tuple[type[AppError], str, str]] = {
    "23505": (Conflict, "duplicate", "记录已存在（唯一性约束冲突）。"),
    "23503": (Invalid, "unknown_reference", "引用的记录不存在。"),
    "23514": (Invalid, "constraint_violation", "数据不符合规则（检查约束）。"),
    "23502": (Invalid, "missing_value", "缺少必填值。"),
    "22003": (Invalid, "number_out_of_range", "数值超出允许范围。"),
    "22008": (Invalid, "date_out_of_range", "日期超出允许范围。"),
}


def translate_db_error(exc: DBAPIError) -> AppError | None:
    """Translate a database error into an AppError, or None if it is not the user's fault."""
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "pgcode", None)
    diag = getattr(orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) if diag is not None else None
    if constraint and constraint in CONSTRAINT_ERRORS:
        cls, code, detail = CONSTRAINT_ERRORS[constraint]
        return cls(detail, code=code)
    if sqlstate and sqlstate in SQLSTATE_ERRORS:
        cls, code, detail = SQLSTATE_ERRORS[sqlstate]
        extra = {"constraint": constraint} if constraint else None
        return cls(detail, code=code, extra=extra)
    return None


#: Chinese wording for pydantic's error types, so a clerk can see what to fix.
_VALIDATION_MESSAGES: dict[str, str] = {
    "missing": "必填项缺失",
    "float_parsing": "应为数字",
    "decimal_parsing": "应为数字",
    "int_parsing": "应为整数",
    "float_type": "应为数字",
    "decimal_type": "应为数字",
    "int_type": "应为整数",
    "string_type": "应为文本",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "必须大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "less_than": "必须小于 {lt}",
    "string_too_long": "文本过长（最多 {max_length} 字）",
    "string_too_short": "文本过短（至少 {min_length} 字）",
    "string_pattern_mismatch": "格式不正确",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "enum": "取值应为以下之一：{expected}",
    "literal_error": "取值应为以下之一：{expected}",
    "extra_forbidden": "不允许的字段",
    "decimal_max_digits": "数字位数过多",
    "decimal_max_places": "小数位数过多（最多 {decimal_places} 位）",
    "finite_number": "应为有限数字",
    "value_error": "{msg}",
    "dict_type": "应为 JSON 对象",
    "list_type": "应为 JSON 数组",
    "model_type": "应为 JSON 对象",
    "json_invalid": "JSON 格式错误",
}


#: A more specific code when the first bad field is one of these.
_FIELD_CODES: dict[str, str] = {
    "total_investment_yuan": "invalid_investment",
    "annual_plan_yuan": "invalid_investment",
    "amount_completed_yuan": "invalid_amount",
    "planned_start": "invalid_date",
}


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_problem(errors: list[dict[str, Any]]) -> AppError:
    """Turn pydantic/FastAPI validation errors into one AppError with per-field messages."""
    if any(err.get("type") == "json_invalid" for err in errors):
        err = next(e for e in errors if e.get("type") == "json_invalid")
        pos = (err.get("ctx") or {}).get("error", "")
        return BadRequest(f"请求体不是合法的 JSON：{pos}".rstrip("："), code="malformed_json")
    fields = []
    for err in errors:
        ctx = {k: v for k, v in (err.get("ctx") or {}).items()}
        if "msg" not in ctx:
            ctx["msg"] = str(err.get("msg", ""))
            ctx["msg"] = ctx["msg"].removeprefix("Value error, ")
        template = _VALIDATION_MESSAGES.get(str(err.get("type")), "{msg}")
        try:
            message = template.format(**ctx)
        except (KeyError, IndexError):
            message = str(err.get("msg", ""))
        fields.append(
            {"field": _field_path(tuple(err.get("loc", ()))), "message": message, "type": err.get("type")}
        )
    summary = "；".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    code = next((_FIELD_CODES[f["field"]] for f in fields if f["field"] in _FIELD_CODES), "validation_error")
    return Invalid(f"输入有误，请修改后重试。{summary}", code=code, extra={"errors": fields})


def problem_response(error: AppError, request: Request | None = None) -> JSONResponse:
    """Build the problem+json response for an AppError."""
    instance = str(request.url.path) if request is not None else None
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return JSONResponse(
        error.to_problem(instance), status_code=error.status, media_type=PROBLEM_JSON, headers=headers
    )


_HTTP_STATUS_CODES: dict[int, tuple[type[AppError], str, str]] = {
    401: (Unauthorized, "not_authenticated", "请先登录。"),
    403: (Forbidden, "forbidden", "没有权限。"),
    404: (NotFound, "not_found", "请求的地址不存在。"),
    405: (BadRequest, "method_not_allowed", "不支持该请求方法。"),
    413: (PayloadTooLarge, "body_too_large", "请求体过大。"),
}


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every failure into problem+json."""

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        if exc.status >= 500:
            logger.error("server error %s: %s", exc.code, exc.detail)
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(validation_problem(list(exc.errors())), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        cls, code, detail = _HTTP_STATUS_CODES.get(
            exc.status_code, (BadRequest, "http_error", str(exc.detail))
        )
        error = cls(detail, code=code)
        error.status = exc.status_code
        return problem_response(error, request)

    @app.exception_handler(DBAPIError)
    async def _db(request: Request, exc: DBAPIError) -> JSONResponse:
        translated = translate_db_error(exc)
        if translated is None:
            logger.exception("unexpected database error")
            translated = AppError("服务器内部错误，请稍后重试。")
        return problem_response(translated, request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(AppError("服务器内部错误，请稍后重试。"), request)


__all__ = [
    "AppError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "IntegrityError",
    "Invalid",
    "NotFound",
    "PayloadTooLarge",
    "Unauthorized",
    "install_error_handlers",
    "translate_db_error",
]
