"""Domain errors: a stable code, a message in Chinese and English, and the HTTP status they map to."""

from django.utils.translation import get_language


class DomainError(Exception):
    """Base of every error a use case raises for bad input or a forbidden act."""

    code = "domain_error"
    status = 400
    message_zh = "请求无法处理"
    message_en = "The request cannot be processed"

    def __init__(self, detail: str | None = None, *, code: str | None = None, **context):
        self.detail = detail
        if code:
            self.code = code
        self.context = context
        super().__init__(self.message())

    def message(self, language: str | None = None) -> str:
        language = language or get_language() or "zh-hans"
        english = language.startswith("en")
        base = self.message_en if english else self.message_zh
        # A rule's own explanation in Chinese (quorum figures, a verdict), when the raiser gave one.
        detail = self.detail if english else self.context.get("explanation_zh", self.detail)
        return f"{base}: {detail}" if detail else base

    def as_dict(self) -> dict:
        body = {"code": self.code, "message": self.message()}
        if self.context:
            body["details"] = self.context
        return body


class ValidationFailed(DomainError):
    code = "invalid"
    status = 400
    message_zh = "输入有误"
    message_en = "Invalid input"


class NotFound(DomainError):
    code = "not_found"
    status = 404
    message_zh = "未找到"
    message_en = "Not found"


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403
    message_zh = "无权执行此操作"
    message_en = "You are not allowed to do this"


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401
    message_zh = "请先登录"
    message_en = "Sign-in required"


class Conflict(DomainError):
    code = "conflict"
    status = 409
    message_zh = "与现有数据冲突"
    message_en = "Conflicts with existing data"


class ImportRejected(DomainError):
    """A whole import refused; `context['errors']` lists [{line, message}] for each bad row."""

    code = "import_rejected"
    status = 400
    message_zh = "导入被拒绝，未保存任何数据"
    message_en = "Import rejected, nothing was stored"


class RateLimited(DomainError):
    """Too many requests of one kind in a window; `retry_after` (seconds) says when to try again."""

    code = "rate_limited"
    status = 429
    message_zh = "请求过于频繁，请稍后再试"
    message_en = "Too many requests, try again later"

    def __init__(self, detail: str | None = None, *, retry_after: int | None = None, **context):
        self.retry_after = retry_after
        if retry_after is not None:
            context.setdefault("retry_after", retry_after)
        super().__init__(detail, **context)
