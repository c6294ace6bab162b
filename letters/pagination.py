from rest_framework.pagination import PageNumberPagination


class ArchivePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500
