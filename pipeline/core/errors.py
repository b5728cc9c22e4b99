"""One error type for everything a user can cause; the CLI prints it as a single line."""
from __future__ import annotations

from pipeline.core.safe_text import literal


class PipelineError(Exception):
    """A problem with the user's input or configuration.

    ``str(err)`` is one line naming the file and row where there is one, e.g.
    ``corpus/survey.csv:14: row has 12 fields, header has 11``.
    """

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None):
        self.message = " ".join(str(message).split())
        self.file = file
        self.row = row
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.file:
            file = literal(self.file)  # a newline in a file name must not split the one line
            where = f"{file}:{self.row}: " if self.row is not None else f"{file}: "
        return where + self.message


class ConfigError(PipelineError):
    """A bad value in pipeline.toml, categories.yaml, labels.yaml or a flag."""
