"""`manage.py synth APP_SLUG --out DIR`: write an application's cloud assembly, every region."""

import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from deployer.synth import SynthError, synth_application
from regions.models import Application


class Command(BaseCommand):
    help = "Synthesize the CloudFormation templates of every region of an application."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The application's slug.")
        parser.add_argument("--out", default="cdk.out", help="Folder for the cloud assembly.")
        parser.add_argument("--no-cache", action="store_true", help="Synthesize even if cached.")
        parser.add_argument("--timeout", type=float, help="Seconds (default: SYNTH_TIMEOUT).")

    def handle(self, *args, slug, out, no_cache, timeout, verbosity, **options):
        if timeout is not None and not timeout > 0:
            raise CommandError("--timeout must be more than 0 seconds.")
        application = Application.objects.filter(slug=slug).first()
        if application is None:
            raise CommandError(f"No application with the slug {slug!r}.")
        out = Path(out)
        if out.exists() and (not out.is_dir() or (
            any(out.iterdir()) and not (out / "manifest.json").is_file()
        )):
            raise CommandError(
                f"{out} exists and is not a cloud assembly; choose an empty or new folder."
            )

        def on_line(stream: str, line: str) -> None:
            (self.stderr if stream == "stderr" else self.stdout).write(line)

        try:
            result = synth_application(
                application,
                use_cache=not no_cache,
                timeout=timeout,
                on_line=on_line if verbosity >= 2 else None,
            )
        except SynthError as exc:
            raise CommandError(str(exc)) from None

        if out.exists():
            shutil.rmtree(out)  # a previous assembly: replaced whole, so no stale template stays
        shutil.copytree(result.outdir, out)
        for region, stack in result.stacks.items():
            self.stdout.write(f"{region:<16} {stack.stack_name:<40} {stack.resource_count} resources")
        cached = " (cached)" if result.cached else ""
        self.stdout.write(
            f"Synthesized {len(result.stacks)} stacks in {result.elapsed:.2f} s{cached} to {out}."
        )
