from django.apps import AppConfig


class TrafficConfig(AppConfig):
    name = "traffic"
    verbose_name = "Traffic (region switch)"

    def ready(self):
        # The status API shows each routing check's drift; watch never imports traffic.
        from watch.api import STATUS_FIELDS

        from .drift import status_fields

        if status_fields not in STATUS_FIELDS:
            STATUS_FIELDS.append(status_fields)
