"""Files: atomic writes, the run directory's status, content-addressed caches, reading a finished run back."""
