"""Training InGram (the authors' procedure), snapshot selection, the universal run, adaptation to one KG, releasing weights."""
