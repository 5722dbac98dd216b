"""The program as an LLM4AD task ships it: a string, not a file."""

template_program = '''
def pick(item: int, bins: list[int]) -> int:
    """Which bin (its index) takes the item: the first that fits."""
    return next(i for i, free in enumerate(bins) if free >= item)
'''

task_description = "Choose the bin each item goes into, so that few bins are used."
