"""A module of the folder the program imports: Glia ships it beside the program."""


def total(weights, items):
    return sum(weights.get(item, 0.0) for item in items)
