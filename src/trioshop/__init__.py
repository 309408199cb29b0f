"""trioshop: Go's concurrency patterns, made safe by Trio's structured concurrency.

Everything public is re-exported here; the implementation lives in private modules.
"""

# When things break (issue #5): rate limiting, circuit breaking, retries
from ._breaker import BreakerState as BreakerState
from ._breaker import CircuitBreaker as CircuitBreaker
from ._breaker import CircuitBreakerStatistics as CircuitBreakerStatistics
from ._errors import CircuitOpen as CircuitOpen  # issue #5
from ._errors import OrderCancelled as OrderCancelled
from ._errors import QueueFull as QueueFull
from ._errors import ShopClosed as ShopClosed
from ._errors import TrioshopError as TrioshopError
from ._ratelimit import TokenBucket as TokenBucket
from ._ratelimit import TokenBucketStatistics as TokenBucketStatistics
from ._retry import Backoff as Backoff
from ._retry import retry as retry
from ._util import fix_module as _fix_module

__version__ = "0.1.0.dev0"

_fix_module(globals())
del _fix_module
