"""The one error type of the synth service."""


class SynthError(Exception):
    """The app could not be synthesized. `kind` says why, `retryable` whether trying again
    can help: input (the inventory or the app's settings), app_failed (the app exited with an
    error), timeout, contract (the assembly lacks what the control plane needs), internal."""

    KINDS = ("input", "app_failed", "timeout", "contract", "internal")

    def __init__(self, kind: str, message: str, *, retryable: bool | None = None, lines=()):
        if kind not in self.KINDS:
            raise ValueError(f"unknown synth error kind {kind!r}")
        super().__init__(message)
        self.kind = kind
        self.retryable = kind in ("timeout", "internal") if retryable is None else retryable
        self.lines = list(lines)
