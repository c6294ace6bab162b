"""Download the published data package: the descriptor and the whole zip, with an ETag
(the zip's sha256) and 304 on If-None-Match, answered from the files alone."""

from __future__ import annotations

import json

from django.http import FileResponse, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from datapackage import build, state


def _etag_matches(request, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    candidates = {value.strip() for value in header.split(",")}
    return etag in candidates or f"W/{etag}" in candidates or "*" in candidates


class DataPackageDescriptorView(APIView):
    """The published datapackage.json (Data Package v2)."""

    http_method_names = ["get", "head"]

    @extend_schema(
        summary="The data package descriptor",
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="datapackage.json"),
            304: OpenApiResponse(description="Not modified (If-None-Match)."),
        },
    )
    def get(self, request):
        folder = state.ensure_fresh()
        raw = (folder / build.DESCRIPTOR).read_bytes()
        etag = f'"{(folder / ".zip.sha256").read_text().strip()}-d"'
        if _etag_matches(request, etag):
            response = HttpResponse(status=304)
        else:
            response = Response(json.loads(raw))
        response["ETag"] = etag
        response["Cache-Control"] = "public, max-age=0, must-revalidate"
        return response


class DataPackageZipView(APIView):
    """The whole published package as one zip file."""

    http_method_names = ["get", "head"]

    @extend_schema(
        summary="The whole data package (zip)",
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The package: datapackage.json, README.md and data/*.csv "
                "under one folder. ETag is the zip's sha256.",
            ),
            304: OpenApiResponse(description="Not modified (If-None-Match)."),
        },
    )
    def get(self, request):
        folder = state.ensure_fresh()
        descriptor = json.loads((folder / build.DESCRIPTOR).read_text("utf-8"))
        sha256 = (folder / ".zip.sha256").read_text().strip()
        etag = f'"{sha256}"'
        if _etag_matches(request, etag):
            response = HttpResponse(status=304)
        else:
            name = build.zip_name(descriptor)
            response = FileResponse(
                (folder / name).open("rb"),
                as_attachment=True,
                filename=name,
                content_type="application/zip",
            )
        response["ETag"] = etag
        response["Cache-Control"] = "public, max-age=0, must-revalidate"
        return response
