"""Running the model: composition of configs, blocks of worlds, executors, run folders."""
