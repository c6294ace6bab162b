"""Public API routes (filled in by the API issue)."""

urlpatterns: list = []
