"""What the tests expect of a command-line user error."""

from __future__ import annotations

import subprocess


def one_error_line(done: subprocess.CompletedProcess, *fragments: str) -> str:
    """The one stderr line of a user error, after checking exit status 2, no traceback, the `ocr_core: error: `
    prefix and that every fragment is in it."""
    assert done.returncode == 2, (done.returncode, done.stderr[-3000:])
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert lines[0].startswith("ocr_core: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]
