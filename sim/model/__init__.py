"""The model's pure mechanisms: agents, rules, parameters; no I/O, no Hydra."""
