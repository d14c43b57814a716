import sys

from infra.aws.cli import main

sys.exit(main())
