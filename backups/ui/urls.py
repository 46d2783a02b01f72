"""Browse page URLs: the list at /, one item, the overview, the CSV export."""
from django.urls import path

from . import views

app_name = "backups"
urlpatterns = [
    path("", views.checkpoint_item_list, name="list"),
    path("overview/", views.checkpoint_item_overview, name="overview"),
    path("export.csv", views.checkpoint_item_export, name="export"),
    path("backups/<str:item_id>/", views.checkpoint_item_detail, name="detail"),
]
