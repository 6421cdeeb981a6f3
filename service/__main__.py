"""``python -m service serve|worker``: the same commands ``dlgrade`` mounts."""

import typer

from service.cli import register

app = typer.Typer(no_args_is_help=True, add_completion=False)
register(app)

if __name__ == "__main__":
    app()
