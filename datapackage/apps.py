from django.apps import AppConfig


class DatapackageConfig(AppConfig):
    name = "datapackage"
    verbose_name = "Data package"

    def ready(self):
        from datapackage import state

        state.connect_signals()
