"""What a run reports to Glia's ledger about the newer settings (llmsim/conditions.py)."""

from llmsim.config import SimulationConfig
from llmsim.runner import build_simulator

from tests.sim.design_helpers import fixture_class


def conditions(config: SimulationConfig, **classes) -> dict:
    return build_simulator(config, **classes).conditions()


def test_generated_workloads_are_named_by_their_parameters():
    bursty = conditions(SimulationConfig(duration=30, seed=3))
    assert bursty["workload"] == "generated:qps=7.5,seed=3,duration=30"  # the ledger's own label, unchanged
    sinus = conditions(SimulationConfig(arrivals="sinusoid", duration=30, period=60, seed=3))
    assert sinus["workload"] == "generated:sinusoid,qps_low=7.5,qps_high=22.5,period=60,seed=3,duration=30"
    closed = conditions(
        SimulationConfig(arrivals="closed_loop", users=9, lengths="prefill_heavy", duration=30)
    )
    assert (
        closed["workload"]
        == "generated:closed_loop,users=9,think_time=0,seed=0,duration=30,lengths=prefill_heavy"
    )
    assert closed["num_requests"] == 9  # the users' first requests, all that exists when the run starts


def test_slots_and_limits_are_reported_and_classes_passed_in_are_named():
    plain = conditions(SimulationConfig(duration=30))
    assert (plain["autoscaler"], plain["replica_scheduler"]) == ("none", "sarathi")
    scaled = conditions(
        SimulationConfig(
            duration=30, arrivals="sinusoid", autoscaler="threshold", max_replicas=9, cold_start=40
        )
    )
    assert (scaled["autoscaler"], scaled["max_replicas"], scaled["cold_start"]) == ("threshold", 9, 40.0)
    policy = fixture_class("spf_replica_scheduler.py", "AIReplicaScheduler")
    custom = conditions(SimulationConfig(duration=30, replica_scheduler="ai"), scheduler_policy=policy)
    assert custom["replica_scheduler"] == "custom:fixture_spf_replica_scheduler.AIReplicaScheduler"
    assert conditions(SimulationConfig(duration=30, replica_scheduler="ai"))["replica_scheduler"] == "ai"
