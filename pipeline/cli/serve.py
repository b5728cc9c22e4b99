"""`pipeline serve [RUN]`: the analyst's and editor's workspace in the browser, over a completed run."""
from __future__ import annotations

import getpass
from pathlib import Path
from typing import Optional

import typer

from pipeline.cli.options import command, err, load, stdout

app = typer.Typer()


@app.command()
@command
def serve(run_dir: Optional[Path] = typer.Argument(None, help="A completed run's output folder (default: the most "
                                                              "recent complete run under outputs/)."),
          corpus: Optional[Path] = typer.Option(None, "--corpus", help="The run's corpus folder (default: the one "
                                                                       "its manifest.json names)."),
          host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (default 127.0.0.1: this "
                                                               "machine only)."),
          port: int = typer.Option(8765, "--port", help="Port (a free one if it is taken; 0 = any free port)."),
          user: Optional[str] = typer.Option(None, "--user", help="Name signed on every edit in the audit trail "
                                                                  "(default: the OS user)."),
          open_browser: bool = typer.Option(False, "--open/--no-open", help="Open the URL in a browser.")) -> None:
    """Open a completed run in the browser: browse and edit themes, recode segments, code the blind sample, pick
    quotes. Edits go to labels.yaml (with an audit trail beside it) and rebuild every output."""
    from pipeline import runner
    from pipeline.io.run_reader import latest_run, require_complete_run
    from pipeline.workspace import Workspace
    from pipeline.workspace.server import build, is_loopback, serve_until_interrupted
    from pipeline.workspace.session import corpus_of

    run_dir = run_dir or latest_run()
    require_complete_run(run_dir)
    corpus = corpus or corpus_of(run_dir)
    workspace = Workspace(run_dir, corpus, load(corpus), user or getpass.getuser(),
                          model_dir=runner.default_model_dir(corpus))
    from pipeline.workspace import coding
    from pipeline.workspace.trained import TrainedLearner

    # the blind sample's next item and "Retrain on my codes" come from the trained coder
    coding.ACTIVE_LEARNER = TrainedLearner(corpus, workspace.config, workspace.model_dir)
    running = build(workspace, host, port)
    if not is_loopback(host):
        err.print(f"warning: listening on {host}: anyone who can reach this machine and has the URL can read and "
                  "edit the answers", markup=False, soft_wrap=True)

    def ready() -> None:
        stdout.print(f"workspace for {run_dir} (corpus {corpus}), edits signed '{workspace.who}'\n"
                     f"open: {running.url}\n(Ctrl+C stops the server)", markup=False, soft_wrap=True)
        if open_browser:
            import webbrowser

            webbrowser.open(running.url)

    serve_until_interrupted(running, ready)
    stdout.print("workspace stopped", markup=False)
