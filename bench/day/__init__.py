"""The simulated day (bench/simulate_day.py): its world and its simulation."""
