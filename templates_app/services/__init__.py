"""Template use cases: every write to templates goes through one function of this package.

Each function takes the acting user explicitly, checks permission, validates
(the pure core in `templates_app.domain`, then the graph core's full
pipeline on what a version produces), writes in one transaction with its
audit entry, and answers with the object.
"""

from templates_app.services.instantiation import (
    template_instantiate,
    template_upgrade_workflow,
    upgrade_document,
)
from templates_app.services.preparation import PreparedVersion, prepare_version
from templates_app.services.publishing import (
    template_deprecate,
    template_publish,
    template_rate,
    template_set_featured,
    template_set_verified,
    template_update,
    template_version_create,
)
from templates_app.services.save_as import template_from_workflow

__all__ = [
    "PreparedVersion",
    "prepare_version",
    "template_deprecate",
    "template_from_workflow",
    "template_instantiate",
    "template_publish",
    "template_rate",
    "template_set_featured",
    "template_set_verified",
    "template_update",
    "template_upgrade_workflow",
    "template_version_create",
    "upgrade_document",
]
