"""``examples``: the bundled scenarios."""

from __future__ import annotations

import os

import click


@click.command()
@click.option("--copy", "copy_dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Write the bundled scenarios, their manifests and recordings under DIR (new files only).")
def examples(copy_dir: str | None) -> None:
    """List the bundled scenarios (run one by name: statefulsim run quickstart), or copy them out."""
    from statefulsim.io.bundled import bundled_scenarios, copy_bundled

    if copy_dir is not None:
        written = copy_bundled(copy_dir)
        click.echo(f"wrote {len(written)} files under {copy_dir}; run one with "
                   f"statefulsim run {os.path.join(copy_dir, 'quickstart.yaml')}")
        return
    shown = bundled_scenarios()
    width = max(len(b.name) for b in shown)
    for b in shown:
        click.echo(f"{b.name:<{width}}  {b.description}".rstrip())
