"""The command line: the parser (`kgviz …`), the commands behind it."""
