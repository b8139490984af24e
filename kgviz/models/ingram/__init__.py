"""InGram: the network, its fast kernels and per-edge reference, checkpoints, stored draws, the predictor and the scorer."""
