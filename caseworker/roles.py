"""Which roles use which part of the staff side."""

from portal.models import STAFF_ROLES, Role

CASE_ROLES = STAFF_ROLES
SUPERVISING_ROLES = (Role.ADMIN.value, Role.SUPERVISOR.value)
ADMIN_ROLES = (Role.ADMIN.value,)
