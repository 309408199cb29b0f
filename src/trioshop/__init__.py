"""trioshop: Go's concurrency patterns, made safe by Trio's structured concurrency.

Everything public is re-exported here; the implementation lives in private modules.
"""

from ._errors import OrderCancelled as OrderCancelled
from ._errors import QueueFull as QueueFull
from ._errors import ShopClosed as ShopClosed
from ._errors import TrioshopError as TrioshopError

# isort: split
# Pipelines: stages, fan-out, fan-in (issue #4)
from ._channels import gather as gather
from ._channels import merge as merge
from ._pipeline import Stage as Stage
from ._pipeline import open_pipeline as open_pipeline

# isort: split
from ._util import fix_module as _fix_module

__version__ = "0.1.0.dev0"

_fix_module(globals())
del _fix_module
