"""The parts of one research context's session, each with one job; `glia/context.py` puts them together.

- `sandbox.py`: the repository's history on the host, the snapshots of the sandbox's tree, closing it;
- `turn.py`: one Researcher turn, its tool calls dispatched through the tool registry (`glia.agents.tools`);
- `supervision.py`: when and how the Supervisor is consulted;
- `resume.py`: what a resumed session takes over from its transcript;
- `ending.py`: the context's outcome and its `context_end` event.
"""
