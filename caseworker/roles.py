"""Which roles use which part of the staff side."""

from portal.models import Role

CASE_ROLES = (Role.ADMIN.value, Role.SUPERVISOR.value, Role.CASEWORKER.value)
SUPERVISING_ROLES = (Role.ADMIN.value, Role.SUPERVISOR.value)
ADMIN_ROLES = (Role.ADMIN.value,)
