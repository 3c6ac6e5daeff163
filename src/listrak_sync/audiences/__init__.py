"""Audiences: segments (SQL or structured filters), insights, and campaign audiences computed
in the warehouse and streamed to destinations as Arrow batches.

The campaigns and segments come in as ``listrak_sync.config`` models; this package never reads
the project file. Typical use::

    from listrak_sync.audiences import CampaignAudience

    audience = CampaignAudience(project.config, warehouse, "spring_sale")
    for unit in audience.units():          # per destination (and group, if sent separately)
        for batch in unit.batches():       # one row per email/phone, chosen attributes
            ...
        unit.report                        # counts per group/status, sample of rejected rows
"""

from typing import TYPE_CHECKING

from .._exports import lazy_exports

if TYPE_CHECKING:
    from .campaigns import CampaignAudience
    from .errors import AudienceError, Issue
    from .insights import SegmentInsights, segment_insights
    from .segments import SegmentResolver

__all__ = [
    "AudienceError",
    "CampaignAudience",
    "Issue",
    "SegmentInsights",
    "SegmentResolver",
    "segment_insights",
]

# The compiler (sqlglot) and the warehouse adapters load on first use.
__getattr__ = lazy_exports(
    __name__,
    {
        "CampaignAudience": "campaigns",
        "AudienceError": "errors",
        "Issue": "errors",
        "SegmentInsights": "insights",
        "segment_insights": "insights",
        "SegmentResolver": "segments",
    },
)
