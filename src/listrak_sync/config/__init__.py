"""The project file's typed settings: pydantic models of ``listrak-sync.yml``, and nothing else.

This is the lowest layer of the package (docs/explanation/layers.md): the models read no file,
no environment and no secret, so every feature package (audiences, sync, events, files, source,
runtime, web) can take them as arguments without importing the project loader, and the loader
(``listrak_sync.project``) composes them. One module per section:

- ``models``: ``ProjectConfig``, the whole file, with the warehouse, state, segments and campaigns
- ``credentials``: credentials, and ``SecretValue`` (a value that is only ever a reference)
- ``destinations``: the ``destinations`` section (email, SMS, events, files, Data API)
- ``events``, ``files``, ``sources``: the settings of the event server, the file exports and pulls
- ``filters``: structured segment filters; ``datasets``: the columns of Listrak's data files
- ``schedules``: schedules and alerts; ``console``: the web console's users
"""

from typing import TYPE_CHECKING

from .._exports import lazy_exports

if TYPE_CHECKING:
    from .credentials import EnvRef, SecretFileRef, SecretValue, Value
    from .models import Campaign, ProjectConfig, Segment

__all__ = [
    "Campaign",
    "EnvRef",
    "ProjectConfig",
    "SecretFileRef",
    "SecretValue",
    "Segment",
    "Value",
]

# Each section's models load with the first name asked of them.
__getattr__ = lazy_exports(
    __name__,
    {
        "EnvRef": "credentials",
        "SecretFileRef": "credentials",
        "SecretValue": "credentials",
        "Value": "credentials",
        "Campaign": "models",
        "ProjectConfig": "models",
        "Segment": "models",
    },
)
