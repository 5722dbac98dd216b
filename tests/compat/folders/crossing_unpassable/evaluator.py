import importlib.util
import threading


def evaluate(program_path):
    try:
        spec = importlib.util.spec_from_file_location("program", program_path)
        program = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(program)
        return {"combined_score": float(program.run(threading.Lock(), [1, 2, 3]))}
    except Exception as exc:  # catches Glia's refusal too: the score must not be a valid 0
        return {"combined_score": 0.0, "error": str(exc)}
