import sys

from aikinklab_ops.cli import main

sys.exit(main())
