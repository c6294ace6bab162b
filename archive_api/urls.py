"""The archive's URLs: the curation admin and the public API. The bare root sends
visitors to the API's browsable root."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(url="/api/v1/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include("letters.urls")),
]
