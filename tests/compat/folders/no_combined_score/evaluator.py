"""An evaluator with raw metrics on different scales and its own `overall_score`, no combined_score."""

import importlib.util

SIGNAL = [0.0, 4.0, 1.0, 5.0, 2.0, 6.0, 3.0, 7.0]


def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("candidate", program_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.smooth(list(SIGNAL))
    roughness = sum(abs(a - b) for a, b in zip(out, out[1:], strict=False))
    lag = sum(abs(a - b) for a, b in zip(out, SIGNAL, strict=False))
    return {"roughness": roughness, "lag": lag, "overall_score": 1.0 / (1.0 + 0.1 * roughness + 0.05 * lag)}
