SPOT = "spot"
ON_DEMAND = "on_demand"
