"""Running ``gensuite`` in-process from tests, and checking its one-line errors."""

from __future__ import annotations

import json

from gensuite.cli.main import main


def run(capsys, *argv):
    """(exit code, stdout, stderr) of ``gensuite ARGV``; argparse exits count too."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments):
    """Exit code 2 and one line of stderr holding every fragment."""
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def edit_run_config(run_dir, **changes):
    """Change fields of ``RUN/config.json``, as a run started with another config would have."""
    path = run_dir / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))
