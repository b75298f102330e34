"""Metrics records, logging and usage totals.

    from voxtrio.metrics import STTMetrics, UsageCollector, log_metrics
"""

from voxtrio.engines.metrics import AgentMetrics as AgentMetrics
from voxtrio.engines.metrics import EOUMetrics as EOUMetrics
from voxtrio.engines.metrics import LLMMetrics as LLMMetrics
from voxtrio.engines.metrics import RealtimeModelMetrics as RealtimeModelMetrics
from voxtrio.engines.metrics import STTMetrics as STTMetrics
from voxtrio.engines.metrics import TTSMetrics as TTSMetrics
from voxtrio.engines.metrics import VADMetrics as VADMetrics
from voxtrio.metrics.log import log_metrics as log_metrics
from voxtrio.metrics.usage import UsageCollector as UsageCollector
from voxtrio.metrics.usage import UsageSummary as UsageSummary
