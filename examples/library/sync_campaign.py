"""Sync a campaign from a Python script, as `listrak-sync sync CAMPAIGN -p PROJECT` does.

    python examples/library/sync_campaign.py PROJECT_DIR CAMPAIGN

Exits with the command line's exit codes (docs/reference/exit-codes.md).
"""

from __future__ import annotations

import sys

import listrak_sync


def main(project_dir: str, campaign: str) -> int:
    try:
        project = listrak_sync.load_project(project_dir)
        result = listrak_sync.sync(project, campaign)
    except listrak_sync.ListrakSyncError as exc:  # a problem in the project, warehouse, Listrak
        for text, hint in exc.report():
            print(f"error: {text}" + (f" (hint: {hint})" if hint else ""), file=sys.stderr)
        return exc.exit_code
    for unit in result.units:
        counts = unit.run.counts if unit.run is not None else {}
        print(f"{unit.target}: {unit.status} {counts}")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
