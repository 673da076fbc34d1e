from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "sandbox"
    verbose_name = "Sandbox"

    def ready(self):
        from regions.forms import DEFAULT_PROVIDERS

        from .services import form_defaults

        if form_defaults not in DEFAULT_PROVIDERS:
            DEFAULT_PROVIDERS.append(form_defaults)
