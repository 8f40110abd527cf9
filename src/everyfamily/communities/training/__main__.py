"""``python -m everyfamily.communities.training``: rebuild or check the shipped model."""

import sys

from everyfamily.communities.training.train import main

sys.exit(main())
