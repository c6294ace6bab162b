"""API errors are JSON whatever format was asked for, and name what is wrong."""

from rest_framework.renderers import JSONRenderer
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    request = context.get("request")
    if response is not None and request is not None:
        renderer = getattr(request, "accepted_renderer", None)
        if renderer is not None and renderer.format == "csv":
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = "application/json"
    return response
