import importlib.util

import helper_sim


def evaluate(program_path):
    try:
        spec = importlib.util.spec_from_file_location("program", program_path)
        program = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(program)
        jobs = helper_sim.jobs()
        result = program.schedule(jobs)
        if not isinstance(result, helper_sim.Schedule) or sorted(result.order) != sorted(
            j.name for j in jobs
        ):
            return {"combined_score": 0.0}
        return {"combined_score": 100.0 / result.makespan_weighted(jobs)}
    except Exception as exc:  # the usual evaluator: any failure scores 0
        return {"combined_score": 0.0, "error": str(exc)}
