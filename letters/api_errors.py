"""API errors are JSON whatever format was asked for, and name what is wrong. A query
stopped by the time limit (letters.limits) is a 503 that says so; so is a database that
cannot be reached or dropped the connection (never a 500)."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from letters.limits import is_time_limit_error

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if (
        response is None
        and isinstance(exc, OperationalError)
        and (is_time_limit_error(exc))
    ):
        response = Response(
            {
                "detail": "The query took longer than the "
                f"{settings.API_QUERY_TIME_LIMIT_MS} ms allowed. Narrow the filters, "
                "or download the data package for whole-archive work."
            },
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "1"},
        )
    elif response is None and isinstance(exc, OperationalError | InterfaceError):
        logger.error("database unavailable: %s", exc)
        response = Response(
            {"detail": "The database is unavailable at the moment; try again shortly."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    request = context.get("request")
    if response is not None and request is not None:
        renderer = getattr(request, "accepted_renderer", None)
        if renderer is not None and renderer.format == "csv":
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = "application/json"
    return response
