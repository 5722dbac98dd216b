"""Uses numpy and the image's pandas together (pandas breaks when a different numpy shadows its own)."""

import importlib.util

import numpy as np
import pandas as pd


def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("candidate", program_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    w = np.asarray(module.weights(4), dtype=float)
    returns = pd.DataFrame(
        {"a": [0.1, 0.2, -0.1], "b": [0.0, 0.1, 0.3], "c": [0.2, -0.2, 0.1], "d": [0.05] * 3}
    )
    portfolio = returns.to_numpy() @ w
    return {"combined_score": float(portfolio.mean() / (portfolio.std() + 1e-9)), "numpy": np.__version__}
