import importlib.util


def evaluate(program_path):
    try:
        spec = importlib.util.spec_from_file_location("program", program_path)
        program = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(program)
        return {"combined_score": float(program.weigh(["a", "b", "a"]))}
    except Exception as exc:
        return {"combined_score": 0.0, "error": str(exc)}
