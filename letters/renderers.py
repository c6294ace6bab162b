from rest_framework.renderers import BaseRenderer


class ArchiveCSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
