import sys

from kgviz.cli.parser import main

sys.exit(main())
