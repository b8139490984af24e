"""ULTRA (Galkin et al., ICLR 2024): its relation graph, the network, message sums and path explanations."""
