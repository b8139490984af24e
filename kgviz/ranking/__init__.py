"""The one ranking path: scores → ranks and ordered candidate lists (tie rule, filtering, inference-time constraints), stability over draws, the report `kgviz predict` prints."""
