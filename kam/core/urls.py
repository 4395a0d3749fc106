from django.contrib.auth import views as auth_views
from django.urls import path

from kam.core import auth_views as logins
from kam.core import views

urlpatterns = [
    path("login/", logins.KamLoginView.as_view(), name="login"),
    path("login/code/", logins.two_factor_verify, name="two_factor_verify"),
    path("login/enrol/", logins.two_factor_enrol, name="two_factor_enrol"),
    path("login/recovery-codes/", logins.recovery_codes, name="recovery_codes"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/security/", logins.security, name="security"),
    path("me/security/password/", logins.KamPasswordChangeView.as_view(), name="password_change"),
    path("me/security/recovery-codes/", logins.recovery_codes_renew, name="recovery_codes_renew"),
    path("me/security/two-factor/remove/", logins.two_factor_remove, name="two_factor_remove"),
    path("me/sessions/<int:pk>/end/", logins.session_end, name="session_end"),
    path("me/sessions/end-others/", logins.sessions_end_others, name="sessions_end_others"),
    path("security/lockouts/", logins.lockouts, name="lockouts"),
    path("security/lockouts/unlock/", logins.lockout_unlock, name="lockout_unlock"),
    path("security/users/", logins.users_security, name="users_security"),
    path("security/users/<int:pk>/", logins.user_security, name="user_security"),
    path(
        "security/users/<int:pk>/reset-two-factor/",
        logins.user_two_factor_reset,
        name="user_two_factor_reset",
    ),
    path(
        "security/users/<int:pk>/sessions/end/", logins.user_sessions_end, name="user_sessions_end"
    ),
    path("access-log/", views.access_log, name="access_log"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
    path("notifications/read/", views.notifications_read_all, name="notifications_read_all"),
]
