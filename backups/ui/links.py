"""Links of the browse pages: this page with some parameters changed, and a resource's backups."""
from django.urls import reverse
from django.utils.http import urlencode

from backups.listing.parameters import PROJECT_PARAMETER


class Links:
    """URLs of this page with some parameters changed; empty values are left out of every link."""

    def __init__(self, path, params, project):
        self.path = path
        self.params = {name: value for name, value in params.items() if value}
        if project:
            self.params[PROJECT_PARAMETER] = project

    def url(self, path=None, **changes):
        params = dict(self.params)
        for name, value in changes.items():
            if value is None or value == "":
                params.pop(name, None)
            else:
                params[name] = value
        query = urlencode(params)
        return f"{path or self.path}?{query}" if query else (path or self.path)

    def first_page(self, **changes):
        return self.url(marker=None, offset=None, **changes)


def request_params(params):
    """The last value of each parameter, as the API reads them."""
    return {name: params.get(name) for name in params}


def resource_list_url(project, resource_id):
    """Every backup of one resource (server), newest first: "where is last night's backup of X"."""
    return Links(reverse("backups:list"), {}, project).url(resource_id=resource_id)
