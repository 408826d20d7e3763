"""Imports every domain's tables so one metadata describes the whole schema (Alembic, tests)."""

from cityops.audit import models as audit_models  # noqa: F401
from cityops.cases import calendar_models  # noqa: F401
from cityops.cases import models as case_models  # noqa: F401
from cityops.catalog import models as catalog_models  # noqa: F401
from cityops.core import models as core_models  # noqa: F401
from cityops.core.db import Base
from cityops.datahub import models as datahub_models  # noqa: F401
from cityops.indicators import models as indicator_models  # noqa: F401
from cityops.intake import models as intake_models  # noqa: F401
from cityops.org import models as org_models  # noqa: F401
from cityops.regions import models as region_models  # noqa: F401
from cityops.sensing import models as sensing_models  # noqa: F401
from cityops.triage import models as triage_models  # noqa: F401

metadata = Base.metadata
