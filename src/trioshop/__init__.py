"""trioshop: Go's concurrency patterns, made safe by Trio's structured concurrency.

Everything public is re-exported here; the implementation lives in private modules.
"""

from ._breaker import BreakerState as BreakerState
from ._breaker import CircuitBreaker as CircuitBreaker
from ._breaker import CircuitBreakerStatistics as CircuitBreakerStatistics
from ._channels import gather as gather
from ._channels import merge as merge
from ._errors import CircuitOpen as CircuitOpen
from ._errors import OrderCancelled as OrderCancelled
from ._errors import QueueFull as QueueFull
from ._errors import ShopClosed as ShopClosed
from ._errors import TrioshopError as TrioshopError
from ._once import Once as Once
from ._once import OnceStatistics as OnceStatistics
from ._pipeline import Stage as Stage
from ._pipeline import open_pipeline as open_pipeline
from ._ratelimit import TokenBucket as TokenBucket
from ._ratelimit import TokenBucketStatistics as TokenBucketStatistics
from ._retry import Backoff as Backoff
from ._retry import retry as retry
from ._rwlock import RWLock as RWLock
from ._rwlock import RWLockStatistics as RWLockStatistics
from ._semaphore import WeightedSemaphore as WeightedSemaphore
from ._semaphore import WeightedSemaphoreStatistics as WeightedSemaphoreStatistics
from ._shop import Shop as Shop
from ._shop import ShopStatistics as ShopStatistics
from ._shop import Ticket as Ticket
from ._shop import open_shop as open_shop
from ._util import fix_module as _fix_module

__version__ = "0.1.0.dev0"

_fix_module(globals())
del _fix_module
