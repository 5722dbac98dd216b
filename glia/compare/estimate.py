"""What a comparison will spend, before it spends anything: simulations exactly, dollars estimated.

Simulations: each run may use at most its budget (SCG and the others may stop earlier), so the plan's
total is an upper bound. Trusted evaluations are not budgeted simulations (as for every Glia run) and
are listed apart.

Dollars: model calls per simulation times tokens per call times the list prices in
`glia/data/prices.json` (or `GLIA_PRICES`), each run capped at its dollar limit. The token counts are
assumptions, stated here and in docs/compare.md:

- Prompts Glia builds itself are measured: the `sample` prompt and OpenEvolve's system message are built
  for the task and counted at 4 characters per token (the usual rule of thumb for English and code).
- `sample` and `loop`: one call per simulation. `loop` adds its history (about 40 tokens per attempt,
  at most `history` attempts) and two designs (the best and the latest) to the prompt. Output: 5,000
  tokens per call (about 1,500 of code and explanation plus reasoning tokens of a reasoning model).
- `openevolve`: one call per iteration; its prompt is its system message plus about six programs (the
  parent, top and diverse ones) at the design file's size. Output: 3,000 tokens (edits, explanation,
  reasoning).
- Glia's contexts (SCG, MCG-Seq, MCG-Par-N): 6 Researcher turns per simulation, each reading about
  50,000 tokens of conversation of which 90% come from the prompt cache, and writing 1,500 tokens; one
  Supervisor review per 12 turns reading 40,000 uncached tokens and writing 1,500. With o3's prices this
  is about $0.31 a simulation, $31 for 100: the Glia paper's budget of $30 per optimization. Where the
  model has a cache-write price (Anthropic), the uncached 10% of a Researcher turn is billed as a cache
  write, since Glia marks cache points on every turn.
A model without a price gives no dollar estimate (shown as unknown), never a guess.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from glia.blackbox.initial import initial_program
from glia.blackbox.prompts import openevolve_system_message, sample_prompt
from glia.blackbox.settings import MethodSettings
from glia.compare.plan import ComparePlan, Entry
from glia.llm.factory import split_model_string
from glia.llm.pricing import ModelPrice, PriceTable
from glia.llm.types import Usage
from glia.strategies.method_names import LLM4AD_METHODS, LOOP, OPENEVOLVE, SAMPLE
from glia.task import Task

CHARS_PER_TOKEN = 4
DESIGN_OUTPUT_TOKENS = 5_000
OPENEVOLVE_OUTPUT_TOKENS = 3_000
OPENEVOLVE_PROGRAMS_IN_PROMPT = 6
LLM4AD_PROGRAMS_IN_PROMPT = (
    3  # EoH's crossover shows 2 parents, FunSearch k = 3; both answer with whole files
)
LOOP_TOKENS_PER_ATTEMPT = 40
RESEARCHER_TURNS_PER_SIMULATION = 6
RESEARCHER_INPUT_TOKENS = 50_000
RESEARCHER_CACHED_FRACTION = 0.9
RESEARCHER_OUTPUT_TOKENS = 1_500
SUPERVISOR_TURNS_PER_REVIEW = 12
SUPERVISOR_INPUT_TOKENS = 40_000
SUPERVISOR_OUTPUT_TOKENS = 1_500


@dataclass(frozen=True)
class RunEstimate:
    entry: Entry
    simulations: int  # at most
    dollars: float | None  # None: a model without a price
    capped: bool  # the run's dollar limit is below the estimate


def tokens(text: str) -> int:
    return max(1, len(text) // CHARS_PER_TOKEN)


def per_simulation_usage(method: str, task: Task, budget: int, history: int = 30) -> list[tuple[str, Usage]]:
    """(agent, usage) of the model calls one simulation costs, by the assumptions above."""
    template = {p: (Path(task.simulator) / p).read_text(encoding="utf-8") for p in task.design_files}
    design_tokens = sum(tokens(text) for text in template.values())
    if method in (SAMPLE, LOOP):
        prompt = tokens(sample_prompt(task, {}, template))
        if method == LOOP:
            prompt += LOOP_TOKENS_PER_ATTEMPT * min(history, max(1, budget // 2)) + 2 * design_tokens
        return [("researcher", Usage(input_tokens=prompt, output_tokens=DESIGN_OUTPUT_TOKENS))]
    if method in LLM4AD_METHODS:  # one call per sample; the prompt shows the task and a few designs
        start = initial_program(task) if len(task.design_files) == 1 else None
        program = tokens(start.text) if start else design_tokens
        prompt = tokens(openevolve_system_message(task, {})) + LLM4AD_PROGRAMS_IN_PROMPT * program + 500
        return [("researcher", Usage(input_tokens=prompt, output_tokens=DESIGN_OUTPUT_TOKENS))]
    if method == OPENEVOLVE:
        start = initial_program(task) if len(task.design_files) == 1 else None
        program = tokens(start.text) if start else design_tokens
        prompt = tokens(openevolve_system_message(task, {})) + OPENEVOLVE_PROGRAMS_IN_PROMPT * program + 1_000
        return [("researcher", Usage(input_tokens=prompt, output_tokens=OPENEVOLVE_OUTPUT_TOKENS))]
    cached = int(RESEARCHER_INPUT_TOKENS * RESEARCHER_CACHED_FRACTION)
    turn = Usage(
        input_tokens=RESEARCHER_INPUT_TOKENS,
        cached_input_tokens=cached,
        output_tokens=RESEARCHER_OUTPUT_TOKENS,
    )
    review = Usage(input_tokens=SUPERVISOR_INPUT_TOKENS, output_tokens=SUPERVISOR_OUTPUT_TOKENS)
    return [("researcher", _scale(turn, RESEARCHER_TURNS_PER_SIMULATION)),
            ("supervisor", _scale(review, RESEARCHER_TURNS_PER_SIMULATION / SUPERVISOR_TURNS_PER_REVIEW))]  # fmt: skip


def estimate_run(plan: ComparePlan, entry: Entry, task: Task, prices: PriceTable) -> RunEstimate:
    spec = plan.method(entry.method)
    history = MethodSettings.from_mapping(plan.blackbox).history if spec.blackbox else 30
    models = {"researcher": plan.researcher_model, "supervisor": plan.supervisor_model}
    total = 0.0
    for agent, usage in per_simulation_usage(spec.strategy, task, entry.budget, history):
        price = _price(prices, models[agent])
        if price is None:
            return RunEstimate(entry, entry.budget, None, False)
        total += price.cost(_as_billed(usage, price)) * entry.budget
    capped = plan.max_dollars is not None and total > plan.max_dollars
    return RunEstimate(entry, entry.budget, min(total, plan.max_dollars) if capped else total, capped)


def estimate_plan(plan: ComparePlan, task: Task, prices: PriceTable | None = None) -> list[RunEstimate]:
    prices = prices or PriceTable.load().quiet()
    return [estimate_run(plan, entry, task, prices) for entry in plan.entries()]


def _price(prices: PriceTable, model: str) -> ModelPrice | None:
    try:
        _, name = split_model_string(model)
    except Exception:  # noqa: BLE001 - an unknown model string has no price
        return None
    return prices.price_for(name)


def _as_billed(usage: Usage, price: ModelPrice) -> Usage:
    """With a price for cache writes (Anthropic), the uncached part of a cached conversation is a cache
    write: Glia marks cache points on every Researcher turn, so each turn's new tokens are written."""
    if price.cache_write is None or not usage.cached_input_tokens:
        return usage
    return dataclasses.replace(usage, cache_write_tokens=usage.input_tokens - usage.cached_input_tokens)


def _scale(usage: Usage, factor: float) -> Usage:
    return Usage(
        input_tokens=round(usage.input_tokens * factor),
        cached_input_tokens=round(usage.cached_input_tokens * factor),
        output_tokens=round(usage.output_tokens * factor),
    )
