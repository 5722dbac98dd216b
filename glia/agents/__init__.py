"""The two agents of a Glia context and what they share.

- `researcher`: the Researcher's conversation and how it is rebuilt from a transcript;
- `supervisor`: the Supervisor model call, the transcript rendering it reads, and `SupervisorPolicy`,
  the one place that decides when the Supervisor steps in;
- `tools`: the Researcher's tools (one module each, `bash` and `finish`), their registry and the checks
  on its calls;
- `ledger`: the simulation count, charged when the simulator reports a run over the ledger socket
  (`ledger_socket`), and which runs are claims (its simulations are `glia.record.simulations.Simulation`);
- `prompts`: the system prompts in `agent_prompts/`.

The loop that runs them is `glia.context.run_context` (its parts: `glia/research_context/`).
"""

from glia.agents.ledger import SimulationLedger, SimulationRecord
from glia.agents.researcher import Researcher, rebuild_conversation
from glia.agents.supervisor import Supervisor, SupervisorPolicy, SupervisorReview
from glia.agents.tools import researcher_tools, validate_call

__all__ = [
    "Researcher",
    "SimulationLedger",
    "SimulationRecord",
    "Supervisor",
    "SupervisorPolicy",
    "SupervisorReview",
    "rebuild_conversation",
    "researcher_tools",
    "validate_call",
]
