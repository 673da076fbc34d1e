from django.contrib.auth.middleware import LoginRequiredMiddleware


class LoginRequiredByDefaultMiddleware(LoginRequiredMiddleware):
    """Every page needs a login, except views marked @login_not_required.

    The JSON API authenticates itself (session or bearer token) and answers 401, so it is
    left to its own authentication instead of being redirected to the login page."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
