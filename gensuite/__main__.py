import sys

from gensuite.cli.main import main

sys.exit(main())
