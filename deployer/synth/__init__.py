"""The synth service: runs an application's CDK app the way the CDK CLI does and returns its
cloud assembly, one CloudFormation template per region.

The app is a subprocess with CDK_OUTDIR (a fresh folder) and CDK_CONTEXT_JSON (the inputs
derived from the inventory). An app that synthesizes every region in one run is run once; an
app that reads only AWS_REGION is run once per region and the stacks are merged. Results are
cached by a hash of everything that can change the templates, so an unchanged plan
synthesizes nothing. docs/app-contract.md describes the contract for operators' own apps.

inputs: what is run and with what; process: running it; assembly: reading what it wrote;
cache: the content-addressed cache; service: synth_application, which puts them together.
"""

from . import warm
from .assembly import StackArtifact
from .errors import SynthError
from .service import PlanSynth, SynthResult, cached_stack, synth_application, synth_plan

__all__ = [
    "PlanSynth", "StackArtifact", "SynthError", "SynthResult", "cached_stack", "synth_application",
    "synth_plan",
    "warm",
]
