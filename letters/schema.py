"""OpenAPI: every operation documents the error responses the API really returns."""

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.openapi import AutoSchema

VALIDATION_ERROR = {
    "type": "object",
    "description": "Each key names the query parameter (or path field) at fault.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
DETAIL_ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}


def _json(description, schema):
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


class ArchiveAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        responses.setdefault("400", _json("Invalid parameters.", VALIDATION_ERROR))
        responses.setdefault(
            "404", _json("Not found (or not published).", DETAIL_ERROR)
        )
        responses.setdefault(
            "406", _json("No acceptable format for the Accept header.", DETAIL_ERROR)
        )
        responses.setdefault(
            "429",
            _json("Too many requests: wait and retry (see Retry-After).", DETAIL_ERROR),
        )
        responses.setdefault(
            "503",
            _json("The query ran past the time limit; narrow it.", DETAIL_ERROR),
        )
        return responses


class ArchiveFilterExtension(DjangoFilterExtension):
    """Keeps each filter's help_text as the parameter description, also for filters
    whose schema is given with @extend_schema_field (drf-spectacular drops it)."""

    priority = 1

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        parameters = super().get_schema_operation_parameters(
            auto_schema, *args, **kwargs
        )
        filterset_class = getattr(auto_schema.view, "filterset_class", None)
        if filterset_class is None:
            return parameters
        for parameter in parameters:
            field = filterset_class.base_filters.get(parameter["name"])
            help_text = field.extra.get("help_text") if field is not None else None
            if help_text and not parameter.get("description"):
                parameter["description"] = str(help_text)
        return parameters
