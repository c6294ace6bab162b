"""The archive's URLs: the curation admin and the public API, nothing else."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("letters.urls")),
]
