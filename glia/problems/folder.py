"""What an OpenEvolve-style problem folder holds, read without running any of it.

A folder has a program (`initial_program.py`), an evaluator (`evaluator.py`) whose `evaluate(program_path)`
returns the metrics, and optionally a `config.yaml` (OpenEvolve's: the system message, the evaluator's
timeout, the language) and a `requirements.txt`. The evaluator is read as source (its syntax tree), never
imported here: it may need packages this machine lacks, and importing runs its code on the host.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from glia.problems.support.missing import PROJECT_NAMES, project_name
from glia.task import TaskError

DEFAULT_PROGRAM = "initial_program.py"
DEFAULT_EVALUATOR = "evaluator.py"
DEFAULT_ENTRY = "evaluate"
# ShinkaEvolve's layout: `evaluate.py` whose `main(program_path, results_dir)` writes `metrics.json`
# (with `combined_score`) and `correct.json` (`correct`, `error`) into results_dir; the program `initial.py`.
SHINKA_EVALUATOR = "evaluate.py"
LLM4AD_EVALUATION = "evaluation.py"  # LLM4AD's task layout: refused with the way to wrap it
LLM4AD_TEMPLATE = "template.py"
SHINKA_ENTRY = "main"
SHINKA_PROGRAM = "initial.py"
SHINKA_ADAPTER = "glia_shinka_adapter.py"  # Glia's evaluate(program_path) around the folder's main()
SHINKA_COMPAT_DIR = "glia_shinka"  # Glia's stand-in for shinka.core, used when the real one is absent
# Where a suite (ADRS) declares the dependencies of all its problem folders, looked for above the folder.
SUITE_REQUIREMENTS = ("requirements.txt", "pyproject.toml")
SUITE_LEVELS = 4
# Keys that name an evaluator's overall score when it returns several `..._score` parts.
OVERALL_SCORES = ("overall_score", "total_score", "final_score", "score")
MEAN_METRIC = "mean_of_metrics"  # the objective when the evaluator names none: a mean Glia computes
SEED_NAMES = ("seed",)
# Names Glia adds to the workspace; a folder that already has them would be silently shadowed.
GLIA_NAMES = ("glia_support", "glia_benchmark.py", "glia_results", SHINKA_ADAPTER, SHINKA_COMPAT_DIR)
OPENEVOLVE_CASCADE_THRESHOLDS = (0.5, 0.75, 0.9)  # OpenEvolve's EvaluatorConfig default
OPENEVOLVE_DEFAULT_SYSTEM_MESSAGE = "system_message"  # OpenEvolve's placeholder: the template's name
MAX_SOURCE_BYTES = 4 * 2**20
# Never part of a problem: version control, caches, and OpenEvolve's own output (often large).
EXCLUDES = (".git", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".venv", "openevolve_output")


@dataclass(frozen=True)
class EntrySignature:
    """The evaluator's entry function, as declared."""

    name: str
    parameters: tuple[str, ...]  # every named parameter after the program path
    accepts_any_keyword: bool  # **kwargs

    def accepts(self, keyword: str) -> bool:
        return self.accepts_any_keyword or keyword in self.parameters

    @property
    def seed_argument(self) -> str | None:
        return next((name for name in SEED_NAMES if name in self.parameters), None)


@dataclass(frozen=True)
class ProblemFolder:
    """A problem folder, checked: where its parts are and what its config says."""

    root: Path
    program: str
    evaluator: str
    entry: EntrySignature
    system_message: str | None
    timeout_s: float | None  # config.yaml's evaluator.timeout
    requirements: Path | None
    imports_openevolve: bool
    layout: str = "openevolve"  # or "shinka": the evaluator is `main(program_path, results_dir)`
    objective: str | None = None  # the score key the evaluator's source names, when it names one
    suite_requirements: tuple[str, ...] = ()  # dependencies declared at the suite's root (ADRS)
    suite_source: Path | None = None  # the file that declared them
    # OpenEvolve's cascade thresholds when OpenEvolve would run the evaluator's stages, else None
    cascade_thresholds: tuple[float, ...] | None = None


def inspect_folder(
    root: Path, program: str | None, evaluator: str | None, entry: str | None
) -> ProblemFolder:
    """Check the folder's layout; every problem is a TaskError naming the file and what is wrong."""
    root = root.resolve()
    if not root.is_dir():
        raise TaskError(
            f"{root}: not a folder (a problem folder holds {DEFAULT_PROGRAM} and {DEFAULT_EVALUATOR})"
        )
    for name in GLIA_NAMES:
        if (root / name).exists():
            raise TaskError(f"{root / name}: Glia adds a file of this name to the workspace; rename yours")
    layout = "shinka" if _is_shinka(root, evaluator, entry) else "openevolve"
    evaluator_name = evaluator or (SHINKA_EVALUATOR if layout == "shinka" else DEFAULT_EVALUATOR)
    evaluator_path = _inside(root, evaluator_name, "evaluator")
    if not evaluator_path.is_file() and evaluator is None and (root / SHINKA_EVALUATOR).is_file():
        raise TaskError(
            f"{root / SHINKA_EVALUATOR}: no top-level {SHINKA_ENTRY}(program_path, results_dir) (ShinkaEvolve's "
            f"entry point) and no {DEFAULT_EVALUATOR}; name the entry in glia.yaml: `entry: NAME`"
        )
    if not evaluator_path.is_file() and evaluator is None:
        _refuse_llm4ad(root)
    if not evaluator_path.is_file():
        raise TaskError(
            f"{evaluator_path}: no evaluator (an OpenEvolve problem folder has an {DEFAULT_EVALUATOR} whose "
            "evaluate(program_path) returns a dict of metrics)"
        )
    program_name = program or _find_program(root, layout)
    program_path = _inside(root, program_name, "program")
    if not program_path.is_file():
        raise TaskError(f"{program_path}: no program file (name it in glia.yaml: `program: FILE`)")
    if program_path.suffix != ".py":
        raise TaskError(
            f"{program_path}: only Python programs can be evaluated in Glia's program sandbox "
            f"(the program must be importable by the evaluator); got a {program_path.suffix or 'suffixless'} file"
        )
    _parse(program_path)
    tree = _parse(evaluator_path)
    config = _read_config(root / "config.yaml")
    requirements = root / "requirements.txt"
    signature = _signature(
        evaluator_path, tree, entry or (SHINKA_ENTRY if layout == "shinka" else DEFAULT_ENTRY)
    )
    if layout == "shinka" and len(signature.parameters) < 1:
        raise TaskError(
            f"{evaluator_path}: {signature.name}() must take (program_path, results_dir) (ShinkaEvolve's contract)"
        )
    suite, suite_source = (), None
    if not requirements.is_file():
        suite, suite_source = suite_requirements(root)
    if not requirements.is_file() and not suite:
        suite, suite_source = project_requirements(root, program_path, evaluator_path)
    _refuse_unrunnable(
        root,
        requirements if requirements.is_file() else None,
        suite,
        _used_sources(root, evaluator_path, program_path),
    )
    if not requirements.is_file() and not suite:
        _refuse_undeclared(root, (evaluator_path, program_path))
    return ProblemFolder(
        root=root,
        program=program_path.relative_to(root).as_posix(),
        evaluator=evaluator_path.relative_to(root).as_posix(),
        entry=signature,
        system_message=config["system_message"],
        timeout_s=config["timeout_s"],
        requirements=requirements if requirements.is_file() else None,
        imports_openevolve=needs_openevolve(root, (program_path.relative_to(root).as_posix(),)),
        layout=layout,
        objective="combined_score" if layout == "shinka" else declared_objective(root, program_path),
        suite_requirements=suite,
        suite_source=suite_source,
        cascade_thresholds=_cascade(config, tree, layout, entry),
    )


def _cascade(
    config: dict[str, Any], tree: ast.Module, layout: str, entry: str | None
) -> tuple[float, ...] | None:
    """OpenEvolve runs the stages when the evaluator defines `evaluate_stage1` and config.yaml does not
    turn `evaluator.cascade_evaluation` off (it is on by default); naming an `entry` in glia.yaml opts out."""
    if layout != "openevolve" or entry is not None or not config["cascade_evaluation"]:
        return None
    if not any(isinstance(node, ast.FunctionDef) and node.name == "evaluate_stage1" for node in tree.body):
        return None
    return config["cascade_thresholds"]


# What Glia's sandboxes cannot give: a GPU (these packages need one, or Apple's Metal) and the network.
GPU_PACKAGES = ("mlx", "cupy", "pycuda", "triton", "tensorrt", "jax-cuda", "torch-tensorrt")
NETWORK_MODULES = ("requests", "httpx", "aiohttp", "urllib3", "openai", "anthropic")


def _used_sources(root: Path, evaluator: Path, program: Path) -> list[Path]:
    """The evaluator, the program, the folder's modules they import and the scripts the evaluator names
    (`subprocess.run(["python", "submit.py"])`): what an evaluation runs, not every helper of the folder."""
    used = [evaluator, program]
    for path in (evaluator, program):
        try:
            tree = ast.parse(path.read_bytes()[:MAX_SOURCE_BYTES])
        except (SyntaxError, ValueError, OSError):
            continue
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            candidates = [root / f"{name.split('.')[0]}.py" for name in names]
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.endswith(".py"):
                candidates.append(root / Path(node.value).name)
            used += [c for c in candidates if c.is_file() and c not in used]
    return used


def _refuse_unrunnable(
    root: Path, requirements: Path | None, suite: tuple[str, ...], used: list[Path]
) -> None:
    """One line for a folder that cannot be scored in a sandbox: it needs a GPU or the network."""
    declared = list(suite) + (list(_read_requirements(requirements)) if requirements else [])
    modules = _imported_modules(root, used)
    imported = {name.split(".")[0] for name in modules}
    for requirement in declared:
        project = re.sub(r"[-_.]+", "-", _import_name(requirement)).lower()
        if any(project == gpu or project.startswith(gpu + "-") for gpu in GPU_PACKAGES):
            raise TaskError(
                f"{requirements or root}: requirement {requirement!r} needs a GPU (or Apple's Metal), which "
                "Glia's sandboxes do not have; this folder cannot be scored here"
            )
    for module in sorted(imported & {m.replace("-", "_") for m in GPU_PACKAGES}):
        raise TaskError(
            f"{root}: the problem imports {module}, which needs a GPU; Glia's sandboxes have none"
        )
    if "shinka.llm" in modules:
        raise TaskError(
            f"{root}: the problem imports shinka.llm (an LLM judge: a model account and the network), and "
            "Glia's sandboxes have no network; this folder cannot be scored here"
        )
    for module in sorted(imported & set(NETWORK_MODULES)):
        raise TaskError(
            f"{root}: the problem imports {module} (it reaches the network: an online judge, an account, a "
            "service), and Glia's sandboxes have no network; this folder cannot be scored here"
        )


# What the workspace image has besides the standard library (glia/workspace/image.py), and what Glia adds.
IMAGE_MODULES = frozenset({"numpy", "pandas", "dateutil", "pytz", "six", "openevolve", "shinka"})


def folder_module(root: Path, name: str, max_depth: int = 3) -> bool:
    """Whether the folder has a module or package `name`: beside the evaluator, or deeper (a simulator
    project's own package, `simulator/sky_spot/`, which Glia ships to the program's sandbox)."""
    if (root / f"{name}.py").is_file() or (root / name).is_dir():
        return True
    for depth in range(1, max_depth + 1):
        pattern = "/".join(["*"] * depth)
        if any(root.glob(f"{pattern}/{name}.py")) or any(root.glob(f"{pattern}/{name}/__init__.py")):
            return True
    return False


def _refuse_undeclared(root: Path, files: tuple[Path, ...]) -> None:
    """With no requirements declared anywhere, a package the evaluator or the program imports at top level
    (outside `try:`) that is neither standard, in the image, nor a module of the folder cannot be there:
    one line naming it and the fix, instead of an evaluation that fails (or scores 0) on it."""
    import sys

    for path in files:
        tree = ast.parse(path.read_bytes()[:MAX_SOURCE_BYTES])
        for node in tree.body:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in IMAGE_MODULES or folder_module(root, top):
                    continue
                raise TaskError(
                    f"{path}: imports {top}, which the sandbox does not have and the folder declares nowhere; "
                    f"add it to {root / 'requirements.txt'} (its PyPI name, e.g. `{project_name(top)}`)"
                )


def _refuse_llm4ad(root: Path) -> None:
    """LLM4AD's task layout (an `Evaluation` subclass in evaluation.py, the program as template.py's
    `template_program` string) is not read: say so, with the two files that make it a problem folder."""
    evaluation, template = root / LLM4AD_EVALUATION, root / LLM4AD_TEMPLATE
    if not (evaluation.is_file() and template.is_file()):
        return
    if b"template_program" not in template.read_bytes()[:MAX_SOURCE_BYTES]:
        return
    raise TaskError(
        f"{evaluation}: an LLM4AD task (an Evaluation subclass whose evaluate_program(program_str, "
        f"callable_func) returns the score; the program is {LLM4AD_TEMPLATE}'s template_program), a layout "
        f"Glia does not read; fix: save template_program as {DEFAULT_PROGRAM} and add an {DEFAULT_EVALUATOR} "
        f"whose {DEFAULT_ENTRY}(program_path) imports the program, calls your Evaluation's "
        "evaluate_program(source, function) and returns {'combined_score': score}"
    )


def _is_shinka(root: Path, evaluator: str | None, entry: str | None) -> bool:
    """ShinkaEvolve's layout: no evaluator.py, an evaluate.py with a top-level main() (or named so)."""
    if entry not in (None, SHINKA_ENTRY):
        return False
    name = evaluator or SHINKA_EVALUATOR
    if evaluator is None and (root / DEFAULT_EVALUATOR).is_file():
        return False
    path = root / name
    if not path.is_file() or path.name != SHINKA_EVALUATOR:
        return False
    try:
        tree = ast.parse(path.read_bytes()[:MAX_SOURCE_BYTES])
    except (SyntaxError, ValueError):
        return False
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    return SHINKA_ENTRY in names and DEFAULT_ENTRY not in names


def declared_objective(root: Path, program_path: Path) -> str | None:
    """The score the evaluator names: `combined_score` if any source of the folder mentions it, else the
    overall score its returned dicts hold (OVERALL_SCORES, in order), else their one key ending in
    `score`; None when there is no such key
    (Glia then computes a mean, labelled `mean_of_metrics`)."""
    skipped = program_path.resolve()
    keys: set[str] = set()
    for path in _sources(root):
        if path.resolve() == skipped:
            continue
        try:
            tree = ast.parse(path.read_bytes()[:MAX_SOURCE_BYTES])
        except (SyntaxError, ValueError, OSError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value == "combined_score":
                return "combined_score"
            if isinstance(node, ast.Dict):
                keys |= {
                    k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)
                }
    named = next((name for name in OVERALL_SCORES if name in keys), None)
    if named:
        return named
    scores = sorted(k for k in keys if k.lower().endswith("score") and k.isidentifier())
    return scores[0] if len(scores) == 1 else None


def suite_requirements(root: Path) -> tuple[tuple[str, ...], Path | None]:
    """Dependencies a suite declares at its root (ADRS: one pyproject or requirements for all folders),
    looked for in the few folders above the problem, stopping at a repository's root; only those the
    folder's own sources import are kept (a suite's file declares what all its folders need)."""
    folder = root
    if (root / ".git").exists():
        return (), None
    for _ in range(SUITE_LEVELS):
        parent = folder.parent
        if parent == folder:
            break
        folder = parent
        for name in SUITE_REQUIREMENTS:
            path = folder / name
            if path.is_file():
                imported = _imported_top_levels(root)
                found = tuple(r for r in _read_requirements(path) if _import_name(r) in imported)
                if found:
                    return found, path
        if (folder / ".git").exists():
            break
    return (), None


def project_requirements(root: Path, program: Path, evaluator: Path) -> tuple[tuple[str, ...], Path | None]:
    """Dependencies of the project folder inside the problem that holds a package the program imports
    (ADRS's `cant-be-late-multi`: `sky_spot` sits in `simulator/`, beside the simulator's
    requirements.txt, which its README installs): those that the package, that folder's own scripts
    (`simulator/main.py`, which the evaluator runs), the program and the evaluator import."""
    for name in sorted(_imported_top_levels_of([program])):
        if (root / f"{name}.py").is_file() or (root / name / "__init__.py").is_file():
            continue
        for depth in range(1, 4):
            pattern = "/".join(["*"] * depth)
            packages = sorted(root.glob(f"{pattern}/{name}/__init__.py"))
            if len(packages) != 1:
                continue
            project = packages[0].parent.parent
            for file_name in SUITE_REQUIREMENTS:
                path = project / file_name
                if not path.is_file():
                    continue
                sources = [*packages[0].parent.rglob("*.py"), *project.glob("*.py"), program, evaluator]
                imported = _imported_top_levels_of(sources)
                found = tuple(
                    dict.fromkeys(r for r in _read_requirements(path) if _import_name(r) in imported)
                )
                if found:
                    return found, path
            break
    return (), None


def _imported_top_levels_of(paths: list[Path]) -> set[str]:
    return {name.split(".")[0] for name in _imported_modules(paths[0].parent, paths)}


# Projects whose import name is not their project name (the suite's file names projects, sources imports).
IMPORT_NAMES = {project: module for module, project in PROJECT_NAMES.items()}


def _import_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    project = re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else requirement.strip().lower()
    return IMPORT_NAMES.get(project, project.replace("-", "_"))


def _imported_top_levels(root: Path) -> set[str]:
    return {name.split(".")[0] for name in _imported_modules(root)}


def _imported_modules(root: Path, paths: list[Path] | None = None) -> set[str]:
    """The modules (dotted names) the folder's sources import; a suite's file declares more than one needs."""
    found: set[str] = set()
    for path in _sources(root) if paths is None else paths:
        try:
            tree = ast.parse(path.read_bytes()[:MAX_SOURCE_BYTES])
        except (SyntaxError, ValueError, OSError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.add(node.module)
    return found


def _read_requirements(path: Path) -> tuple[str, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ()
    if path.name == "pyproject.toml":
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise TaskError(f"{path}: not valid TOML ({exc})") from None
        dependencies = (data.get("project") or {}).get("dependencies") or []
        if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
            raise TaskError(f"{path}: field 'project.dependencies' must be a list of requirement strings")
        return tuple(d.strip() for d in dependencies if d.strip())
    lines = (raw.split(" #", 1)[0].strip() for raw in text.splitlines())
    return tuple(line for line in lines if line and not line.startswith(("#", "-")))


def _find_program(root: Path, layout: str = "openevolve") -> str:
    default = SHINKA_PROGRAM if layout == "shinka" else DEFAULT_PROGRAM
    if (root / default).is_file():
        return default
    candidates = sorted(p.name for p in root.glob(f"{Path(default).stem}.*"))
    if len(candidates) == 1:
        return candidates[0]
    raise TaskError(
        f"{root}: no {default}"
        + (f" (found {', '.join(candidates)}; name one in glia.yaml: `program: FILE`)" if candidates else
           "; name the program in glia.yaml: `program: FILE`")
    )  # fmt: skip


def _inside(root: Path, relpath: str, what: str) -> Path:
    path = (root / relpath).resolve()
    if path != root and root not in path.parents:
        raise TaskError(f"{root}: the {what} {relpath!r} is outside the problem folder")
    return path


def _parse(path: Path) -> ast.Module:
    data = path.read_bytes()
    if len(data) > MAX_SOURCE_BYTES:
        raise TaskError(f"{path}: {len(data)} bytes is too large for a program or an evaluator")
    try:
        return ast.parse(data, filename=str(path))
    except SyntaxError as exc:
        raise TaskError(f"{path}: line {exc.lineno}: not valid Python ({exc.msg})") from None


def _signature(path: Path, tree: ast.Module, name: str) -> EntrySignature:
    found = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name]
    if not found:
        raise TaskError(f"{path}: no top-level function {name}(program_path) (the evaluator's entry point)")
    node = found[-1]  # as at run time: the last definition wins
    if isinstance(node, ast.AsyncFunctionDef):
        raise TaskError(f"{path}: {name}() is async; Glia calls the entry point as a plain function")
    arguments = node.args
    positional = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
    if not positional and arguments.vararg is None:
        raise TaskError(f"{path}: {name}() takes no program path (expected {name}(program_path, ...))")
    later = positional[1:] + [a.arg for a in arguments.kwonlyargs]
    return EntrySignature(name=name, parameters=tuple(later), accepts_any_keyword=arguments.kwarg is not None)


def _read_config(path: Path) -> dict[str, Any]:
    """OpenEvolve's config.yaml: the system message, the evaluator's timeout, the program's language."""
    found: dict[str, Any] = {
        "system_message": None,
        "timeout_s": None,
        "cascade_evaluation": True,
        "cascade_thresholds": OPENEVOLVE_CASCADE_THRESHOLDS,
    }
    if not path.is_file():
        return found
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TaskError(f"{path}: not valid YAML ({exc})") from None
    if data is None:
        return found
    if not isinstance(data, dict):
        raise TaskError(f"{path}: must be a mapping of settings, got {type(data).__name__}")
    language = data.get("language")
    if language is not None and str(language).lower() != "python":
        raise TaskError(
            f"{path}: field 'language' must be python for Glia's program sandbox, got {language!r}"
        )
    prompt = data.get("prompt")
    if prompt is not None:
        if not isinstance(prompt, dict):
            raise TaskError(f"{path}: field 'prompt' must be a mapping, got {prompt!r}")
        message = prompt.get("system_message")
        if message is not None and not isinstance(message, str):
            raise TaskError(f"{path}: field 'prompt.system_message' must be a string, got {message!r}")
        if message and message.strip() and message.strip() != OPENEVOLVE_DEFAULT_SYSTEM_MESSAGE:
            found["system_message"] = message.strip()
    evaluator = data.get("evaluator")
    if evaluator is not None:
        if not isinstance(evaluator, dict):
            raise TaskError(f"{path}: field 'evaluator' must be a mapping, got {evaluator!r}")
        timeout = evaluator.get("timeout")
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
                raise TaskError(
                    f"{path}: field 'evaluator.timeout' must be a positive number of seconds, got {timeout!r}"
                )
            found["timeout_s"] = float(timeout)
        _read_cascade(path, evaluator, found)
    return found


def _read_cascade(path: Path, evaluator: dict[Any, Any], found: dict[str, Any]) -> None:
    enabled = evaluator.get("cascade_evaluation", True)
    if not isinstance(
        enabled, bool | dict
    ):  # a mapping (ADRS's `stages:`): on, as ADRS's OpenEvolve takes it
        raise TaskError(
            f"{path}: field 'evaluator.cascade_evaluation' must be true or false, got {enabled!r}"
        )
    found["cascade_evaluation"] = bool(enabled)
    thresholds = evaluator.get("cascade_thresholds")
    if thresholds is None:
        return
    if (
        not isinstance(thresholds, list)
        or not thresholds
        or any(isinstance(t, bool) or not isinstance(t, int | float) for t in thresholds)
    ):
        raise TaskError(
            f"{path}: field 'evaluator.cascade_thresholds' must be a non-empty list of numbers, got {thresholds!r}"
        )
    found["cascade_thresholds"] = tuple(float(t) for t in thresholds)


def needs_openevolve(root: Path, design_files: tuple[str, ...] = ()) -> bool:
    """Whether any source of the problem but its program imports the `openevolve` package."""
    skipped = {(root / relpath).resolve() for relpath in design_files}
    return any(_imports_openevolve(path) for path in _sources(root) if path.resolve() not in skipped)


def _sources(root: Path) -> list[Path]:
    skipped = {name for name in EXCLUDES if "*" not in name}
    return sorted(p for p in root.rglob("*.py") if not skipped & set(p.relative_to(root).parts))


def _imports_openevolve(path: Path) -> bool:
    try:
        tree = ast.parse(path.read_bytes()[:MAX_SOURCE_BYTES])
    except (SyntaxError, ValueError, OSError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "openevolve" for a in node.names):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and (node.module or "").split(".")[0] == "openevolve"
            and not node.level
        ):
            return True
    return False
