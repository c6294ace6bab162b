"""Public API routes: /api/v1/ (browsable root), the schema and the docs."""

from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework.routers import DefaultRouter

from datapackage.views import DataPackageDescriptorView, DataPackageZipView
from letters import views


class ArchiveRouter(DefaultRouter):
    """DefaultRouter whose root also links the API documentation."""

    def get_api_root_view(self, api_urls=None):
        view = super().get_api_root_view(api_urls)
        view.initkwargs["api_root_dict"].update(
            {
                "datapackage": "datapackage-descriptor",
                "datapackage_zip": "datapackage-zip",
                "schema": "api-schema",
                "docs": "api-docs",
            }
        )
        return view


router = ArchiveRouter()
router.register("letters", views.LetterViewSet, basename="letter")
router.register("persons", views.PersonViewSet, basename="person")
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register("places", views.PlaceViewSet, basename="place")
router.register("offices", views.OfficeViewSet, basename="office")

urlpatterns = [
    path(
        "v1/datapackage/",
        DataPackageDescriptorView.as_view(),
        name="datapackage-descriptor",
    ),
    path("v1/datapackage.zip", DataPackageZipView.as_view(), name="datapackage-zip"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"
    ),
    path(
        "redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"
    ),
]
