"""What each role may do, independent of any one account.

Account-level rules (team membership) are in ``kam.accounts.selectors``; these are the
role-level facts they build on.
"""

from kam.core.models import Role, User

#: Roles that see every account (figures at least).
ALL_ACCOUNTS = {Role.DIRECTOR, Role.DEPARTMENT, Role.ANALYST}
#: Roles that see only the accounts whose team they are on.
TEAM_ACCOUNTS = {Role.MANAGER, Role.SERVICE}
#: Roles that may edit accounts they can see (managers: only where on the team).
EDITORS = {Role.DIRECTOR, Role.DEPARTMENT, Role.MANAGER}


def is_active_user(user: object) -> bool:
    return isinstance(user, User) and user.is_active


def sees_all_accounts(user: User) -> bool:
    return user.role in ALL_ACCOUNTS


def sees_customer_data(user: User) -> bool:
    """System administrators configure the product; they see no customer data."""
    return user.role in ALL_ACCOUNTS | TEAM_ACCOUNTS


def sees_contacts(user: User) -> bool:
    """Analysts work with figures: no contacts at all."""
    return user.role in {Role.DIRECTOR, Role.DEPARTMENT, Role.MANAGER, Role.SERVICE}


def sees_personal_data_of_any_account(user: User) -> bool:
    return user.role == Role.DIRECTOR


def may_see_personal_data_on_team(user: User) -> bool:
    """Service reps see contact details of their accounts but not personal information."""
    return user.role in {Role.DIRECTOR, Role.DEPARTMENT, Role.MANAGER}


def may_edit(user: User) -> bool:
    return user.role in EDITORS


def may_manage_archive(user: User) -> bool:
    """Create and delete accounts and groups, change any team."""
    return user.role in {Role.DIRECTOR, Role.DEPARTMENT}


def may_read_access_log(user: User) -> bool:
    return user.role == Role.DIRECTOR


def may_import(user: User) -> bool:
    """Load shipment data into the lake and link billing codes (the key-account department)."""
    return user.role in {Role.DIRECTOR, Role.DEPARTMENT}


def sees_ledger(user: User) -> bool:
    """Import history and figures of billing codes not yet linked to an account."""
    return user.role in ALL_ACCOUNTS


def may_unlock_logins(user: User) -> bool:
    """See the login lockouts and lift them (the director too: a locked-out company cannot
    wait for the administrator)."""
    return user.role in {Role.ADMIN, Role.DIRECTOR}


def may_manage_logins(user: User) -> bool:
    """See any user's sessions and second factor, end them, reset a lost authenticator."""
    return user.role == Role.ADMIN
