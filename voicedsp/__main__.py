import sys

from voicedsp.cli import main

sys.exit(main())
