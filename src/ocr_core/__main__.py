import sys

from ocr_core.cli import main

sys.exit(main())
