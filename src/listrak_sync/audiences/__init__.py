"""Audiences: segments (SQL or structured filters), insights, and campaign audiences computed
in the warehouse and streamed to destinations as Arrow batches.

The modules are imported directly (``audiences.campaigns``, ``audiences.segments`` ...): the
project config imports ``audiences.filters``, so this package stays import-free. Typical use::

    from listrak_sync.audiences.campaigns import CampaignAudience

    audience = CampaignAudience(project.config, warehouse, "spring_sale")
    for unit in audience.units():          # per destination (and group, if sent separately)
        for batch in unit.batches():       # one row per email/phone, chosen attributes
            ...
        unit.report                        # counts per group/status, sample of rejected rows
"""
