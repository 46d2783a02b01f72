"""The peer's routes: the API's paths, so the bench sends it the same requests."""

from django.urls import re_path

from . import views

PROJECT = r"(?P<project_id>[A-Za-z0-9_-]{1,64})"

urlpatterns = [
    re_path(rf"^v1/{PROJECT}/checkpoint_items/?$", views.PeerListView.as_view()),
    re_path(rf"^v1/{PROJECT}/checkpoint_items/count/?$", views.PeerCountView.as_view()),
]
