import sys

from vidgan.cli.main import main

sys.exit(main())
