"""JSON log lines carrying the id of the request that wrote them."""

import contextvars
import json
import logging
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# Attributes every LogRecord has; anything else was passed with extra= and goes into the line.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class LevelByCauseFilter(logging.Filter):
    """Log level follows the cause, so an ERROR means a bug or an outage (and may page someone):

    - django.security.* (RequestDataTooBig, DisallowedHost, TooManyFieldsSent...) is a client sending
      something we refuse: WARNING, without a traceback;
    - django.request's line for a 503 that no exception caused (the shop is closed) is expected: INFO.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.security") and record.levelno > logging.WARNING:
            self._set(record, logging.WARNING)
            record.exc_info = record.exc_text = None
        elif record.name == "django.request" and getattr(record, "status_code", None) == 503 and not record.exc_info:
            self._set(record, logging.INFO)
        return True

    @staticmethod
    def _set(record: logging.LogRecord, level: int) -> None:
        record.levelno, record.levelname = level, logging.getLevelName(level)
