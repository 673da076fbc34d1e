from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "sandbox"
    verbose_name = "Sandbox"

    def ready(self):
        from regions.forms import DEFAULT_PROVIDERS
        from watch.probes import SIMULATORS

        from .emitter import probe_answers
        from .services import form_defaults

        if form_defaults not in DEFAULT_PROVIDERS:
            DEFAULT_PROVIDERS.append(form_defaults)
        # The probe asks the sandbox what its endpoints would answer.
        if probe_answers not in SIMULATORS:
            SIMULATORS.append(probe_answers)
