"""Lets a script in analysis/ import the repository's llmsim: `python analysis/my_script.py`.

Python puts the folder of the script it runs (here analysis/) first on sys.path, not the folder you run
it from, so `import llmsim` finds this package. It is the repository's own: its path is set to the
repository's llmsim/ folder and its __init__.py runs, so every `llmsim.x` module loads from there, edits
included. (`python -m analysis.my_script` and scripts elsewhere that set sys.path need none of this.)
"""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[2] / "llmsim"
__path__ = [str(_PACKAGE)]
__file__ = str(_PACKAGE / "__init__.py")
exec(compile((_PACKAGE / "__init__.py").read_text(), __file__, "exec"))
